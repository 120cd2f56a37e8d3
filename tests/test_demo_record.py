"""The demo's numbers on the front page are the demo's: README.md's block is what
docs/demo_record.json renders to, the corpora the demo builds have the SHA-256 it recorded
(rebuilt here, without the model), and its cache follows the builder's recipe."""

import hashlib
import json
import os
import shutil

import pytest

from opencompass_llmcompression import demo
from opencompass_llmcompression.demo_record import BEGIN, END, readme_block, render, replace_block

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def recorded() -> dict:
    with open(os.path.join(ROOT, 'docs', 'demo_record.json'), encoding='utf-8') as f:
        return json.load(f)


def test_readme_block_is_what_the_demo_recorded():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        block = readme_block(f.read())
    assert block == render(recorded()), 'README.md is not what the demo wrote: run bash scripts/demo.sh'


def test_record_tables_agree():
    """The leaderboard's model row holds each corpus's BPC of the demo's own table, and each
    result counts the characters of the corpus built (the record's two sources agree)."""
    record = recorded()
    header = record['leaderboard'][0].strip('|').split('|')
    row = next(line for line in record['leaderboard'] if line.startswith('| smollm2-135m_hf'))
    cells = dict(zip((h.strip() for h in header), (c.strip() for c in row.strip('|').split('|'))))
    for name, result in record['results'].items():
        assert cells[name].split(' ± ')[0] == f'{result["bpc"]:.4f}'
        assert result['chars'] == record['corpora'][name]['chars']
    assert set(record['results']) == set(demo.CORPORA) == set(record['corpora'])


def test_block_markers():
    text = f'# Title\n\n{BEGIN}\nold\n{END}\nrest\n'
    assert replace_block(text, 'new\nlines') == f'# Title\n\n{BEGIN}\nnew\nlines\n{END}\nrest\n'
    for broken in ('no block\n', f'{END}\n{BEGIN}\n', f'{BEGIN}\n{BEGIN}\n{END}\n'):
        with pytest.raises(ValueError, match='must hold the demo block once'):
            replace_block(broken, 'x')


def test_recipe_fingerprint_follows_the_builder_and_settings(tmp_path, monkeypatch):
    from opencompass_llmcompression import corpus

    copy = str(tmp_path / 'corpus')
    shutil.copytree(os.path.dirname(corpus.__file__), copy, ignore=shutil.ignore_patterns('__pycache__'))
    assert demo.recipe_fingerprint(copy) == demo.recipe_fingerprint()
    with open(os.path.join(copy, 'sampling.py'), 'a') as f:
        f.write('\n# changed\n')
    assert demo.recipe_fingerprint(copy) != demo.recipe_fingerprint()
    before = demo.corpora_root('cache', 30000)
    assert before.startswith(os.path.join('cache', 'corpora-30000-'))
    monkeypatch.setitem(demo.PLANS, 'cc', dict(demo.PLANS['cc'], max_chars=11000))
    assert demo.corpora_root('cache', 30000) != before


@pytest.mark.slow
def test_demo_corpora_rebuilt_have_the_recorded_sha256(tmp_path):
    """The three sample corpora built again from nothing (Debian's LaTeX package downloaded
    with apt-get) hold the text the demo measured, when built from the same inputs."""
    record = recorded()
    cache = str(tmp_path / 'cache')
    root = demo.build_sample_corpora(str(tmp_path / 'root'), cache, record['chars'])
    if demo.demo_inputs(cache) != record['inputs']:
        pytest.skip(f'other inputs here ({demo.demo_inputs(cache)}) than recorded ({record["inputs"]})')
    for name, want in record['corpora'].items():
        # the text measured, document by document (the file also holds this machine's paths)
        with open(os.path.join(root, 'data', 'llm-compression', f'{name}.jsonl'), encoding='utf-8') as f:
            texts = [json.loads(line)['content'] for line in f if line.strip()]
        digest = hashlib.sha256(b''.join(t.encode('utf-8') + b'\0' for t in texts)).hexdigest()
        assert digest == want['content_sha256'], (
            f'the demo corpus {name} is built differently now: run bash scripts/demo.sh to '
            'measure and record it again'
        )
        assert (len(texts), sum(map(len, texts))) == (want['documents'], want['chars'])


def test_the_first_line_states_the_recorded_time():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        first = next(line for line in f if line.startswith('bash scripts/demo.sh'))
    minutes = round(recorded()['timing']['total_s'] / 60)
    assert f'({minutes} min ' in first, f'the README\'s first command should state {minutes} min'
