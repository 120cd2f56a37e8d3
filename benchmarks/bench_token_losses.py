"""What keeping token losses costs, and how fast their page opens.

    python benchmarks/bench_token_losses.py                        # a tiny random Llama, CPU
    python benchmarks/bench_token_losses.py --shape smollm2-135m   # SmolLM2-135M's shape

The model is random (timing does not depend on the weights) with SmolLM2's tokenizer; the
tiny one (hidden 64, 2 layers) makes the model's share of the time small, so the option's
share is as large as it gets.

1. ``score_documents`` on the same corpus with ``keep_token_losses`` off and on (each
   ``--repeat`` times in turn, the fastest kept), and the time to turn the kept losses of one
   document into its record (the tokenizer's offsets) and its page data (bits on characters).
2. The page of one document of ``--chars`` characters (text of Python's standard library),
   two models' token losses on it, opened in headless Chromium (Debian's ``chromium`` and
   ``chromium-driver``): the page's own drawing time (``renderMs``, measured by its script)
   and the time from asking for the file to the drawn page, and the file's size.
The BPC of the two runs must agree to the last bit: the option changes no number.
"""

import argparse
import os
import shutil
import sys
import sysconfig
import tempfile
import time

import numpy as np
import torch

from opencompass_llmcompression import score_documents
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.report.token_page import token_page

HERE = os.path.dirname(os.path.abspath(__file__))


def stdlib_text(chars: int) -> str:
    root = sysconfig.get_paths()['stdlib']
    text = ''
    for name in sorted(os.listdir(root)):
        if name.endswith('.py') and len(text) < chars:
            with open(os.path.join(root, name), encoding='utf-8') as f:
                text += f.read()
    return text[:chars]


def model_and_tokenizer(shape: str):
    from bench_inference import shaped_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from opencompass_llmcompression import smollm2

    cache = os.path.join(os.path.expanduser('~'), '.cache', 'opencompass_llmcompression', 'test-assets')
    tokenizer = AutoTokenizer.from_pretrained(smollm2.smollm2_tokenizer_dir(cache))
    if shape != 'tiny':
        return shaped_model(shape, torch.float32, 'cpu'), tokenizer
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
    )
    return LlamaForCausalLM(config).eval(), tokenizer


def time_scoring(model, tokenizer, contents, settings, repeat: int, cache: str):
    fastest, result = {}, {}
    for _ in range(repeat):
        for keep in (False, True):
            start = time.perf_counter()
            out = score_documents(
                model,
                tokenizer,
                contents,
                range(len(contents)),
                settings,
                batch_size=8,
                token_cache_dir=cache,
                progress=False,
                keep_token_losses=keep,
            )
            elapsed = time.perf_counter() - start
            fastest[keep] = min(fastest.get(keep, elapsed), elapsed)
            result[keep] = out
    return fastest, result


def time_page(text: str, records: dict, folder: str):
    path = os.path.join(folder, 'page.html')
    start = time.perf_counter()
    html = token_page('bench', records)
    built = time.perf_counter() - start
    with open(path, 'w', encoding='utf-8') as f:
        f.write(html)
    browser, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (browser and driver):
        return built, None, None, os.path.getsize(path)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1280,800'):
        options.add_argument(argument)
    session = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    try:
        session.get('about:blank')
        start = time.perf_counter()
        session.get('file://' + path)  # returns once the page has loaded and its script ran
        loaded = time.perf_counter() - start
        render = float(session.execute_script('return document.body.dataset.renderMs'))
        assert len(session.find_elements('css selector', '#text span')) == len(text)
    finally:
        session.quit()
    return built, loaded, render, os.path.getsize(path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--documents', type=int, default=8, help='documents scored (default 8)')
    parser.add_argument('--doc-chars', type=int, default=4000, help='characters per document (default 4000)')
    parser.add_argument('--chars', type=int, default=100000, help='characters of the page\'s document')
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--shape', default='tiny', help='tiny (default) or a shape of bench_inference.py')
    args = parser.parse_args()
    torch.manual_seed(0)
    model, tokenizer = model_and_tokenizer(args.shape)
    text = stdlib_text(args.documents * args.doc_chars + args.chars)
    contents = [text[i * args.doc_chars : (i + 1) * args.doc_chars] for i in range(args.documents)]
    settings = MeasurementSettings(512, 128)
    with tempfile.TemporaryDirectory() as folder:
        fastest, result = time_scoring(model, tokenizer, contents, settings, args.repeat, folder)
        assert np.array_equal(result[False][0], result[True][0]), 'the option changed a number'
        kept = result[True][2]
        tokens = int(kept.values.size)
        start = time.perf_counter()
        record = dict(kept.record(0, tokenizer, contents[0]), text=contents[0], nll=float(result[True][0][0]))
        record['chars'] = len(contents[0])
        to_record = time.perf_counter() - start
        big = text[-args.chars :]
        ids = tokenizer(big)['input_ids']
        rng = np.random.default_rng(0)
        records = {}
        for name in ('model-a', 'model-b'):
            nll = [None] + rng.gamma(1.0, 1.5, len(ids) - 1).tolist()
            spans = [list(s) for s in tokenizer(big, return_offsets_mapping=True)['offset_mapping']]
            records[name] = {0: dict(text=big, nll=sum(nll[1:]), chars=len(big), spans=spans, token_nll=nll)}
        built, loaded, render, size = time_page(big, records, folder)
    print(
        f'{args.shape} model, torch {torch.__version__}, {os.cpu_count()} cores, load '
        f'{os.getloadavg()[0]:.2f}'
    )
    print('| what | value |')
    print('|---|---|')
    print(f'| scoring, {tokens} tokens, keep_token_losses off | {fastest[False]:.2f} s |')
    print(f'| scoring, the same, on | {fastest[True]:.2f} s ({fastest[True] / fastest[False] - 1:+.1%}) |')
    print(f'| memory held while on | {kept.values.nbytes / 1e6:.2f} MB (8 bytes a token) |')
    print(f'| one document of {len(contents[0])} chars to its record (offsets) | {to_record * 1000:.0f} ms |')
    print(f'| page of {len(big)} chars, 2 models, built in Python | {built:.2f} s, {size / 1e6:.1f} MB |')
    if loaded is not None:
        print(f'| the same page opened in headless Chromium | {loaded:.2f} s, drawn in {render:.0f} ms |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
