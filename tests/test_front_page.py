"""The front page works as printed: every command of README.md's ```bash tested blocks runs on
the tiny model and the test corpora (the OpenCompass line is the session's unsplit run, the
same command), and the page lists every page of docs/."""

import glob
import os
import re
import shlex
import shutil
import subprocess

import pytest
from conftest import real_documents
from opencompass_runs import BIN, opencompass_env

pytestmark = pytest.mark.cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
    README = f.read()


def front_page_commands(text: str) -> list:
    """The commands of the ```bash tested blocks, continuation lines joined, comments and
    blank lines left out."""
    commands = []
    for block in re.findall(r'^```bash tested\n(.*?)^```', text, flags=re.S | re.M):
        for line in block.replace('\\\n', ' ').splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def options(words: list) -> dict:
    """``--flag value`` pairs of a command line (every flag of the OpenCompass lines takes one),
    without the work dir."""
    pairs = dict(zip(words[1::2], words[2::2]))
    pairs.pop('-w', None)
    return pairs


def test_the_blocks_hold_the_commands_a_user_needs():
    names = [words[0] for words in front_page_commands(README)]
    assert set(names) == {
        'llmcompression-configs',
        'llmcompression-eval',
        'opencompass',
        'llmcompression-summary',
        'llmcompression-corpus',
        'llmcompression-zip',
    }
    # the page starts with its two commands that set up a fresh machine: the demo, the tests
    lines = README.splitlines()
    assert lines[2] == '```bash' and lines[3].startswith('bash scripts/demo.sh ')
    assert lines[4].startswith('bash scripts/test.sh ') and lines[5] == '```'


def test_every_docs_page_is_listed():
    pages = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, 'docs', '*.md')))
    listed = sorted(set(re.findall(r'\]\(docs/([\w.-]+\.md)\)', README.split('## Documentation', 1)[1])))
    assert listed == pages


def test_every_tested_command_runs(tiny_model_dir, corpus_root, unsplit, tmp_path):
    _, run_dir, _ = unsplit
    cwd = tmp_path / 'user'
    (cwd / 'data').mkdir(parents=True)
    os.symlink(os.path.join(corpus_root, 'data', 'llm-compression'), cwd / 'data' / 'llm-compression')
    # the run the OpenCompass line makes, copied (the summary writes into it)
    shutil.copytree(os.path.dirname(os.path.normpath(run_dir)), cwd / 'outputs' / 'default')
    (cwd / 'src' / 'pkg').mkdir(parents=True)  # files of one's own, for the corpus builder
    for i, text in enumerate(real_documents('python', 6, max_chars=4000)):
        (cwd / 'src' / 'pkg' / f'm{i}.py').write_text(text)
    (cwd / 'notes.txt').write_text(real_documents('prose', 1)[0])
    env = dict(opencompass_env(corpus_root), PATH=BIN + os.pathsep + os.environ['PATH'])
    unsplit_line = [
        'opencompass',
        '--datasets',
        'llm_compression',
        '--hf-type',
        'base',
        '--hf-path',
        tiny_model_dir,
        '--hf-num-gpus',
        '0',
        '--summarizer',
        'llm_compression',
    ]  # tests/conftest.py's unsplit, after the same llmcompression-configs install
    ran = []
    for words in front_page_commands(README):
        words = [tiny_model_dir if w == 'MODEL' else w for w in words]
        if words[0] == 'opencompass':
            assert options(words) == options(unsplit_line), 'the OpenCompass line is not the one tested'
            continue
        proc = subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (words, proc.stdout[-2000:], proc.stderr[-2000:])
        ran.append((words, proc.stdout))
    out = {words[0] + ' ' + words[1]: stdout for words, stdout in ran}
    assert 'BPC:' in out['llmcompression-eval --model_name']
    assert 'llm_compression-python' in out['llmcompression-summary --progress']
    assert (cwd / 'data' / 'mine' / 'mine.jsonl').exists()
    assert out['llmcompression-zip decompress'] == (cwd / 'notes.txt').read_text()
