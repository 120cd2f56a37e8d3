"""The token-loss page: written by the report from the token losses two models kept (SmolLM2's
byte-level BPE and a character-level tokenizer, on real Chinese, emoji and English text),
opened in headless Chromium with the network off: no console error, nothing fetched, the
shaded characters and the legend in the screenshot's pixels, the tooltip on hover and on the
arrow keys."""

import json
import os
import re
import shutil

import pytest
from browser import chromium, rgb, screenshot
from conftest import write_jsonl
from test_inferencer import run_shard
from test_token_losses import char_level_tokenizer, multilingual_documents, tiny_llama

from opencompass_llmcompression.report.collect import RunData
from opencompass_llmcompression.report.token_page import DIVERGING, SEQUENTIAL, token_page
from opencompass_llmcompression.report.writer import ReportFolder, token_pages_section

ABBR = 'llm_compression-cc'
MODELS = ('smollm2-tiny', 'char-tiny')


@pytest.fixture(scope='module')
def page(tiny_model, tokenizer, tmp_path_factory):
    """A run folder whose two models kept token losses, and the page the report writes."""
    root = tmp_path_factory.mktemp('page')
    docs = multilingual_documents()
    write_jsonl(str(root / 'corpus' / 'cc.jsonl'), docs)
    chars = char_level_tokenizer(docs)
    run_dir = root / 'run'
    for name, model, tok in ((MODELS[0], tiny_model, tokenizer), (MODELS[1], tiny_llama(len(chars)), chars)):
        out = str(root / name)
        run_shard(
            model, tok, str(root / 'corpus'), out, block_size=64, stride=16, token_loss_documents=[0, 1, 2, 3]
        )
        target = run_dir / 'predictions' / name / 'token_losses'
        target.mkdir(parents=True)
        shutil.copy(os.path.join(out, 'token_losses', 'cc.json'), target / f'{ABBR}.json')
    folder = ReportFolder(str(run_dir / 'summary'), 'stamp')
    lines = token_pages_section(RunData({}, [str(run_dir)]), [ABBR, 'llm_compression-python'], MODELS, folder)
    return folder.written, lines, docs


def page_data(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        text = f.read()
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    assert '<' not in found.group(1)
    return json.loads(found.group(1)), text


def test_the_report_writes_one_offline_page_per_corpus(page):
    written, lines, docs = page
    assert [os.path.basename(p) for p in written] == [f'compression_tokens_{ABBR}_stamp.html']
    assert any(ABBR in line and 'smollm2-tiny, char-tiny' in line for line in lines)
    data, text = page_data(written[0])
    assert not re.search(r'(src|href)="?(https?:)?//', text) and '@import' not in text and 'url(' not in text
    assert [d['index'] for d in data['documents']] == [0, 1, 2, 3]
    for doc in data['documents']:
        assert doc['text'] == docs[doc['index']]
        for model in MODELS:
            entry = doc['models'][model]
            assert len(entry['bits']) == len(doc['text'])
            total = sum(bits for _, _, bits in entry['tokens'])
            assert sum(entry['bits']) == pytest.approx(total, abs=1e-3 * len(doc['text']))
            assert entry['bpc'] == pytest.approx(total / len(doc['text']), rel=1e-3)


def test_text_that_looks_like_html_stays_data():
    text = 'a </script><!-- <b>x</b> -->'
    record = dict(text=text, nll=1.0, chars=len(text), spans=[[i, i + 1] for i in range(len(text))])
    record['token_nll'] = [None] + [0.1] * (len(text) - 1)
    html = token_page('x', {'m': {0: record}})
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S)
    assert json.loads(found.group(1))['documents'][0]['text'] == text


def spans_shaded(image, box, colours) -> int:
    left, top, right, bottom = box
    wanted = {rgb(c) for c in colours}
    counts = image.crop((left, top, right, bottom)).getcolors(maxcolors=1 << 24)
    return sum(n for n, colour in counts if colour in wanted)


def legend_drawn(session, image, colours) -> None:
    swatches = session.find_elements('css selector', '#legend .bar i')
    assert len(swatches) == len(colours)
    for swatch, colour in zip(swatches, colours):
        r = swatch.rect
        assert image.getpixel((int(r['x'] + r['width'] / 2), int(r['y'] + r['height'] / 2))) == rgb(colour)


def test_the_page_in_chromium(page, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    written, _, docs = page
    data, _ = page_data(written[0])
    session = chromium()
    try:
        session.get('file://' + written[0])
        assert session.execute_script("return performance.getEntriesByType('resource').length") == 0
        assert session.find_element('id', 'model-b').get_attribute('value') == MODELS[1]
        image = screenshot(session)
        image.save(str(tmp_path / 'two-models.png'))
        text_box = session.find_element('id', 'text').rect
        box = (
            text_box['x'],
            text_box['y'],
            text_box['x'] + text_box['width'],
            text_box['y'] + text_box['height'],
        )
        coloured = [c for c in DIVERGING if c != '#f7f7f7']
        assert spans_shaded(image, box, coloured) > 2000  # characters shaded by the difference
        legend_drawn(session, image, DIVERGING)

        # hover on a Chinese character that SmolLM2's byte-level BPE splits over two tokens
        doc = next(d for d in data['documents'] if d['index'] == 0)
        session.get('file://' + written[0] + '#doc-0')
        tokens = doc['models'][MODELS[0]]['tokens']
        split = next(s for s, e, _ in tokens if e - s == 1 and sum(t[:2] == [s, e] for t in tokens) > 1)
        span = session.find_element('css selector', f'#text span[data-i="{split}"]')
        ActionChains(session).move_to_element(span).perform()
        tip = session.find_element('id', 'tip')
        assert tip.is_displayed()
        assert 'part of a character' in tip.text and MODELS[0] in tip.text and MODELS[1] in tip.text
        a_bits, b_bits = (doc['models'][m]['bits'][split] for m in MODELS)
        assert f'{a_bits:.3f} bits here' in tip.text and f'{b_bits:.3f} bits here' in tip.text
        assert docs[0][split] in tip.text

        # the keyboard: focus the text, then move with the arrow keys
        session.find_element('id', 'text').send_keys(Keys.ARROW_RIGHT)
        assert tip.is_displayed() and tip.text.startswith('character 1:')
        session.find_element('id', 'text').send_keys(Keys.END)
        assert tip.text.startswith(f'character {len(docs[0]) - 1}:')

        # one model: characters shaded by its bits, the sequential legend
        Select(session.find_element('id', 'model-b')).select_by_value('')
        session.execute_script('document.activeElement.blur()')
        image = screenshot(session)
        image.save(str(tmp_path / 'one-model.png'))
        assert spans_shaded(image, box, SEQUENTIAL[1:]) > 2000
        legend_drawn(session, image, SEQUENTIAL)
        logs = session.get_log('browser')
        assert logs == [], logs
    finally:
        session.quit()


def test_llmcompression_summary_writes_the_page(page, tmp_path, capsys):
    from test_report import compression, write_run

    from opencompass_llmcompression import summary_cli

    written, _, _ = page
    run = os.path.dirname(os.path.dirname(written[0]))  # the run folder of the fixture
    write_run(run, {m: {ABBR: compression(1.0)} for m in MODELS})
    out = tmp_path / 'out'
    args = [run, '--out', str(out), '--documents', '0', '--no-baselines', '--resamples', '0']
    assert summary_cli.main(args) == 0
    printed = capsys.readouterr().out
    (name,) = [f for f in os.listdir(out) if f.startswith('compression_tokens_')]
    (line,) = [line for line in printed.splitlines() if line.startswith(f'- {name}: ')]
    assert sorted(line.split(': ')[1].split(', ')) == sorted(MODELS)
    ours, theirs = page_data(str(out / name))[0], page_data(written[0])[0]
    assert ours['documents'] == theirs['documents'] and sorted(ours['models']) == sorted(MODELS)


def test_the_shards_token_losses_are_read_together(tmp_path):
    from opencompass_llmcompression.report.token_losses import read_token_losses

    folder = tmp_path / 'run' / 'predictions' / 'm' / 'token_losses'
    folder.mkdir(parents=True)
    record = dict(text='ab', nll=0.5, chars=2, spans=[[0, 1], [1, 2]], token_nll=[None, 0.5])
    for shard, index in ((0, 3), (1, 7)):
        (folder / f'{ABBR}_{shard}.json').write_text(
            json.dumps(dict(documents=[dict(record, document_index=index)]))
        )
    (folder / f'{ABBR}_x.json').write_text('not read')
    assert sorted(read_token_losses([str(tmp_path / 'run')], 'm', ABBR)) == [3, 7]
    (folder / f'{ABBR}_1.json').write_text('{"documents": [{"text": "ab"}]}')
    with pytest.raises(ValueError, match=f'{ABBR}_1.json: a document lacks document_index, nll'):
        read_token_losses([str(tmp_path / 'run')], 'm', ABBR)
