"""The token-loss page: one self-contained HTML file per corpus (abbr), characters shaded by bits.

    {model: {document_index: record}} (report.token_losses) -> token_page(...) -> HTML text

One model chosen: each character shaded by the bits spent on it (``core.token_losses.
character_bits``: a token's bits spread over its characters). Two models chosen, whatever
their tokenizers: the difference of their bits on each character, B minus A, on ColorBrewer's
PuOr, a diverging scale that readers with any common colour-vision deficiency tell apart, with
its legend. Hovering a character, or moving over the text with the arrow keys once it has
focus, shows the token(s) each model used there and their bits. The list beside the text leads
to each document, for two models ordered by the change of BPC (the largest gain and loss
first). Everything (data, style, script: ``token_page.js``) is inside the file: it opens
offline, loads nothing from the network and uses the system's fonts.
"""

import html
import json
import math
import os
from typing import Dict, List

import numpy as np

from ..core.metrics import bits_per
from ..core.token_losses import character_bits

SCRIPT = os.path.join(os.path.dirname(__file__), 'token_page.js')
DIGITS = 3  # bits are written to the page with 3 decimals


def page_data(abbr: str, per_model: Dict[str, Dict[int, dict]]) -> dict:
    """What the page's script draws: ``{abbr, models, documents: [{index, text, chars,
    models: {model: {bpc, bits: per character, tokens: [[start, end, bits], ...]}}}]}``.
    A document is drawn for every model that kept it with the same text."""
    documents: Dict[int, dict] = {}
    for model, records in per_model.items():
        for index, record in sorted(records.items()):
            text = record['text']
            entry = documents.setdefault(index, dict(index=index, text=text, chars=len(text), models={}))
            if entry['text'] != text:
                continue  # another corpus under one abbr: not compared
            bits = character_bits(text, np.asarray(record['spans']), record['token_nll'])
            entry['models'][model] = dict(
                bpc=round(float(bits_per(record['nll'], max(record['chars'], 1))), 6),
                bits=[round(b, DIGITS) for b in bits.tolist()],
                tokens=[
                    [start, end, round(nll / math.log(2), DIGITS)]
                    for (start, end), nll in zip(record['spans'], record['token_nll'])
                    if nll is not None
                ],
            )
    models = [m for m in per_model if any(m in d['models'] for d in documents.values())]
    return dict(abbr=abbr, models=models, documents=[documents[i] for i in sorted(documents)])


def token_page(abbr: str, per_model: Dict[str, Dict[int, dict]]) -> str:
    """The page's HTML text (UTF-8), its data inline as JSON."""
    data = json.dumps(page_data(abbr, per_model), ensure_ascii=False, separators=(',', ':'), allow_nan=False)
    data = data.replace('<', '\\u003c')  # no '</script>' or '<!--' can end or hide the data
    with open(SCRIPT, encoding='utf-8') as f:
        script = f.read()
    title = html.escape(f'Bits per character, {abbr}')
    return PAGE.format(title=title, style=STYLE, data=data, script=script)


def page_lines(pages: List[str], models_per_page: Dict[str, List[str]]) -> List[str]:
    """The report's lines for the pages written (file names, the models each shows)."""
    if not pages:
        return []
    lines = ['## Where the bits go, character by character', '']
    for name in pages:
        lines.append(f'- {name}: {", ".join(models_per_page[name])}')
    lines += [
        '',
        'Open a page in a browser: each character shaded by its bits, or, with two models '
        'chosen, by the difference; hover (or arrow keys) shows the tokens. Only documents '
        'whose token losses were kept are there (keep_token_losses, token_loss_documents).',
        '',
    ]
    return lines


# ColorBrewer PuOr (11 classes, orange to purple) and YlOrBr (9), colour-blind safe
DIVERGING = [
    '#7f3b08', '#b35806', '#e08214', '#fdb863', '#fee0b6', '#f7f7f7',
    '#d8daeb', '#b2abd2', '#8073ac', '#542788', '#2d004b',
]  # fmt: skip
SEQUENTIAL = [
    '#ffffe5',
    '#fff7bc',
    '#fee391',
    '#fec44f',
    '#fe9929',
    '#ec7014',
    '#cc4c02',
    '#993404',
    '#662506',
]
DARK = {'#7f3b08', '#b35806', '#8073ac', '#542788', '#2d004b', '#cc4c02', '#993404', '#662506'}


def _classes() -> str:
    rules = []
    for prefix, colours in (('d', DIVERGING), ('s', SEQUENTIAL)):
        for i, colour in enumerate(colours):
            ink = '#fff' if colour in DARK else '#111'
            rules.append(f'.{prefix}{i}{{background:{colour};color:{ink}}}')
    return '\n'.join(rules)


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111;background:#fff}
header{padding:8px 14px;border-bottom:1px solid #ccc;display:flex;flex-wrap:wrap;gap:14px;align-items:center}
header h1{font-size:16px;margin:0}
main{display:flex;align-items:flex-start}
nav{width:300px;flex:none;padding:8px 12px;border-right:1px solid #ddd;
 max-height:calc(100vh - 110px);overflow:auto}
nav h2{font-size:13px;margin:10px 0 4px}
nav ol{margin:0;padding-left:20px}
nav a{color:#1a4f8a}
nav a[aria-current]{font-weight:bold}
#view{flex:1;padding:8px 14px;min-width:0}
#text{font:13px/1.6 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:pre-wrap;
 overflow-wrap:anywhere;border:1px solid #ddd;padding:8px;max-height:calc(100vh - 170px);overflow:auto}
#text:focus{outline:2px solid #1a4f8a}
#text .blk{content-visibility:auto;contain-intrinsic-size:auto 600px}
#text span.on{outline:2px solid #000;outline-offset:0}
#legend{display:flex;align-items:center;gap:6px;font-size:12px}
#legend .bar{display:flex}
#legend .bar i{display:block;width:22px;height:14px;border:1px solid #999;margin-right:-1px}
#tip{position:fixed;display:none;z-index:5;background:#fff;border:1px solid #333;padding:6px 8px;
 font-size:12px;max-width:420px;box-shadow:2px 2px 6px rgba(0,0,0,.25);pointer-events:none}
#tip table{border-collapse:collapse}#tip td{padding:1px 6px;vertical-align:top}
#tip code{background:#eee;padding:0 2px;white-space:pre}
.sr{position:absolute;left:-9999px}
""" + _classes()

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title><style>{style}</style></head>
<body>
<header><h1>{title}</h1>
<label>A <select id="model-a"></select></label>
<label>B <select id="model-b"></select></label>
<div id="legend" aria-label="colour scale"></div></header>
<main><nav id="docs" aria-label="documents"></nav>
<section id="view"><p id="summary"></p>
<div id="text" tabindex="0" role="document" aria-describedby="help"></div>
<p id="help" class="sr">Arrow keys move over the characters; the details of the character are read out.</p>
<div id="live" class="sr" aria-live="polite"></div></section></main>
<div id="tip" role="tooltip"></div>
<script type="application/json" id="data">{data}</script>
<script>{script}</script>
</body></html>
"""
