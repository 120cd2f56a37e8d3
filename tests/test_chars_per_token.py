"""The code recipe's characters-per-token filter with a real tokenizer, SmolLM2's, given as
``--tokenizer`` is given, on real files committed to a git repository: three modules of
Python's standard library and SciPy's table of Dormand-Prince coefficients
(``scipy/integrate/_ivp/dop853_coefficients.py``: numbers, cut by SmolLM2 into about 1.1
characters a token). The ratios are counted here with transformers' tokenizer, not taken from
the filter."""

import importlib.util
import json
import os
import shutil
import subprocess
import sysconfig

import pytest
from conftest import smollm2_tokenizer_dir

from opencompass_llmcompression.corpus import cli

STDLIB = sysconfig.get_paths()['stdlib']
SCIPY_IVP = importlib.util.find_spec('scipy.integrate._ivp').submodule_search_locations[0]
DENSE = 'dop853_coefficients.py'
FILES = {
    DENSE: os.path.join(SCIPY_IVP, DENSE),
    **{name: os.path.join(STDLIB, name) for name in ('bisect.py', 'colorsys.py', 'shlex.py')},
}
ORDINARY = sorted(set(FILES) - {DENSE})


@pytest.fixture(scope='module')
def ratios():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())
    found = {}
    for name, path in FILES.items():
        with open(path, encoding='utf-8') as f:
            text = f.read()
        found[name] = len(text) / len(tokenizer.encode(text))
    return found


@pytest.fixture
def repository(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    for name, path in FILES.items():
        shutil.copy(path, repo / name)
    env = dict(os.environ, GIT_AUTHOR_NAME='a', GIT_AUTHOR_EMAIL='a@example.org', GIT_CONFIG_NOSYSTEM='1')
    env.update(GIT_COMMITTER_NAME='a', GIT_COMMITTER_EMAIL='a@example.org', HOME=str(tmp_path))
    for args in (['init', '-q'], ['add', '.'], ['commit', '-q', '-m', 'files']):
        subprocess.run(['git', *args], cwd=repo, env=env, check=True, capture_output=True)
    return str(repo)


def build(tmp_path, repository, *extra):
    out = str(tmp_path / 'out')
    argv = ['--name', 'python', '--kind', 'code', '--source', repository, '--out', out, *extra]
    assert cli.main(argv) == 0
    with open(os.path.join(out, 'python.jsonl'), encoding='utf-8') as f:
        kept = sorted(json.loads(line)['meta']['path'] for line in f)
    with open(os.path.join(out, 'python.manifest.json'), encoding='utf-8') as f:
        return kept, json.load(f)


def test_smollm2_drops_the_file_under_one_and_a_half_characters_a_token(tmp_path, repository, ratios):
    assert ratios[DENSE] < 1.5 and all(ratios[n] >= 1.5 for n in ORDINARY)
    kept, manifest = build(tmp_path, repository, '--tokenizer', smollm2_tokenizer_dir())
    assert kept == ORDINARY
    assert manifest['skipped'] == {'under 1.5 characters per token': 1}
    ran = {f['name']: f['parameters'].get('ran') for f in manifest['filters']}
    assert ran['code: chars_per_token'] == f'yes, with the tokenizer {smollm2_tokenizer_dir()}'


def test_without_a_tokenizer_the_step_does_not_run(tmp_path, repository):
    kept, manifest = build(tmp_path, repository)
    assert kept == sorted(FILES) and manifest['skipped'] == {}


def test_a_tokenizer_given_for_plain_files_alone_is_refused(tmp_path, repository, capsys):
    """Plain files are cleaned by the plain rules, which use no tokenizer: a --tokenizer that
    could change nothing is refused by name instead of doing nothing silently."""
    folder = tmp_path / 'plain'
    shutil.copytree(repository, folder, ignore=shutil.ignore_patterns('.git'))
    out = str(tmp_path / 'out')
    argv = ['--name', 'python', '--kind', 'code', '--source', str(folder), '--out', out]
    assert cli.main(argv + ['--tokenizer', smollm2_tokenizer_dir()]) == 1
    assert '--tokenizer drives the characters-per-token step' in capsys.readouterr().err
    assert not os.path.exists(os.path.join(out, 'python.jsonl'))
