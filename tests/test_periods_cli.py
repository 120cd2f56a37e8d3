"""Corpora over time through OpenCompass's command line: one build split by month
(``llmcompression-corpus --split-by``), the folder config that makes a dataset of every corpus
(``--datasets llm_compression_folder``), and the report's BPC per period."""

import glob
import json
import math
import os

import pytest
from brute_force import brute_force_nll
from conftest import real_documents
from opencompass_runs import OPENCOMPASS, run_opencompass

from opencompass_llmcompression.corpus.cli import main as build_corpus

pytestmark = pytest.mark.cli
MONTHS = ('2026-01', '2026-02')


def test_a_build_split_by_month_measured_through_opencompass(
    tiny_model, tokenizer, tiny_model_dir, tmp_path, monkeypatch
):
    docs = real_documents('prose', 6, 1200)
    records = tmp_path / 'crawl.jsonl'
    records.write_text(
        ''.join(json.dumps({'text': d, 'date': f'{MONTHS[i % 2]}-15'}) + '\n' for i, d in enumerate(docs))
    )
    folder = tmp_path / 'fresh'
    build = ['--name', 'web', '--kind', 'text', '--records', str(records), '--date-field', 'date']
    assert build_corpus(build + ['--out', str(folder), '--split-by', 'month']) == 0

    monkeypatch.setenv('LLMCOMPRESSION_CORPORA', str(folder))
    args = [
        OPENCOMPASS,
        '--datasets',
        'llm_compression_folder',
        '--hf-type',
        'base',
        '--hf-path',
        tiny_model_dir,
        '--hf-num-gpus',
        '0',
        '-w',
        'work',
        '--summarizer',
        'llm_compression',
    ]
    results, run_dir, stdout = run_opencompass(args, str(tmp_path / 'run'), str(tmp_path))
    for i, month in enumerate(MONTHS):
        with open(folder / f'web_{month}.jsonl', encoding='utf-8') as f:
            contents = [json.loads(line)['content'] for line in f]
        assert sorted(contents) == sorted(docs[i::2])  # the month's documents, each once
        chars = sum(len(d) for d in docs[i::2])
        nll, _ = brute_force_nll(tiny_model, tokenizer, contents, 1900, 512)  # the paper's window
        found = results[f'llm_compression-web_{month}']
        assert found['chars'] == chars
        assert found['bpc'] == pytest.approx(nll.sum() / (chars * math.log(2)), rel=1e-6)
    assert '## BPC over time' in stdout and all(m in stdout.split('## BPC over time')[1] for m in MONTHS)
    assert glob.glob(os.path.join(run_dir, 'summary', 'compression_over_time_*.csv'))
