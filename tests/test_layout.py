"""The package's three wings: the core runs without OpenCompass, imports run with the data,
and every public name, config and registry name of the OpenCompass side is still there."""

import ast
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from brute_force import brute_force_nll
from conftest import real_documents, write_jsonl

import opencompass_llmcompression

PACKAGE = os.path.dirname(opencompass_llmcompression.__file__)
NAME = 'opencompass_llmcompression'
COMMAND_LINES = {'paper_cli', 'summary_cli', 'demo', '__main__', 'zip', 'corpus', 'collect'}
# wing -> what it must never import: wings of this package, and outside packages
FORBIDDEN = {
    'core': ({'openicl', 'report', 'configs'} | COMMAND_LINES, {'opencompass', 'mmengine'}),
    'report': ({'openicl', 'configs'} | COMMAND_LINES, set()),
    'openicl': (COMMAND_LINES, set()),
    # the compressor: core and its own modules only, and no OpenCompass
    'zip': ({'openicl', 'report', 'configs'} | COMMAND_LINES - {'zip'}, {'opencompass', 'mmengine'}),
    # the corpus builder: core and its own modules only; its third-party readers imported lazily
    'corpus': ({'openicl', 'report', 'configs'} | COMMAND_LINES - {'corpus'}, {'opencompass', 'mmengine'}),
    # the collection: core, its own modules and the corpus builder it hands its files to; no model
    'collect': (
        {'openicl', 'report', 'configs'} | COMMAND_LINES - {'collect', 'corpus'},
        {'opencompass', 'mmengine', 'torch', 'transformers'},
    ),
}

# What the GPU machine lacks: OpenCompass and its configuration library.
WITHOUT_OPENCOMPASS = "import sys; sys.modules['opencompass'] = sys.modules['mmengine'] = None\n"


def imported_modules(path: str, module: str):
    """Absolute names of every module ``path`` (the module ``module``) imports, at any depth
    of the file (imports inside functions count too)."""
    package = module if path.endswith('__init__.py') else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(open(path, encoding='utf-8').read(), path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split('.')
            base = base[: len(base) - node.level + 1] if node.level else []
            target = '.'.join(base + ([node.module] if node.module else []))
            yield target
            if not node.module:  # `from . import x`: x is a module of that package
                yield from (f'{target}.{alias.name}' for alias in node.names)


def wing(module: str) -> str:
    """``core``, ``openicl``, ``report``, ``configs`` or a top-level module's name."""
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def import_violations(root: str, name: str = NAME):
    """(importer, imported) pairs that run against the flow of data."""
    found = []
    for folder, _, files in os.walk(root):
        for file in sorted(files):
            if not file.endswith('.py'):
                continue
            path = os.path.join(folder, file)
            relative = os.path.relpath(path, os.path.dirname(root))[:-3].split(os.sep)
            module = '.'.join(relative[:-1] if relative[-1] == '__init__' else relative)
            rules = FORBIDDEN.get(wing(module))
            if not rules:
                continue
            own, outside = rules
            for target in imported_modules(path, module):
                top = target.split('.')[0]
                if (top == name and wing(target) in own) or top in outside:
                    found.append((module, target))
    return found


def test_no_import_runs_against_the_flow_of_data():
    assert import_violations(PACKAGE) == []


def test_the_import_check_sees_a_wrong_import(tmp_path):
    """The check above can fail: a core module importing the OpenCompass side, a report
    module importing the inferencer, and the core importing OpenCompass are all caught."""
    root = tmp_path / NAME
    for wing_name, text in (
        ('core', 'from ..openicl.inferencer import X\ndef f():\n    import opencompass.registry\n'),
        ('report', 'from ..openicl import dataset\n'),
        ('openicl', 'from .. import paper_cli\n'),
    ):
        (root / wing_name).mkdir(parents=True)
        (root / wing_name / '__init__.py').write_text('')
        (root / wing_name / 'bad.py').write_text(text)
    assert sorted(import_violations(str(root))) == [
        (f'{NAME}.core.bad', 'opencompass.registry'),
        (f'{NAME}.core.bad', f'{NAME}.openicl.inferencer'),
        (f'{NAME}.openicl.bad', f'{NAME}.paper_cli'),
        (f'{NAME}.report.bad', f'{NAME}.openicl'),
    ]


def import_cycle(root: str, wing_name: str = 'core'):
    """A cycle among the modules of one wing (imports inside functions count), as the list
    of modules around it, or None."""
    folder = os.path.join(root, wing_name)
    prefix = f'{os.path.basename(root)}.{wing_name}.'
    modules = {name[:-3] for name in os.listdir(folder) if name.endswith('.py') and name != '__init__.py'}
    edges = {
        m: {
            t[len(prefix) :].split('.')[0]
            for t in imported_modules(os.path.join(folder, m + '.py'), prefix + m)
            if t.startswith(prefix) and t[len(prefix) :].split('.')[0] in modules
        }
        - {m}
        for m in modules
    }
    state = {}

    def visit(module, path):
        state[module] = 'open'
        for target in sorted(edges[module]):
            if state.get(target) == 'open':
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[module] = 'done'
        return None

    for module in sorted(modules):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return None


def test_the_core_imports_in_one_direction(tmp_path):
    """No import circle among core's files, lazy imports included; and the check sees one."""
    assert import_cycle(PACKAGE) is None
    core = tmp_path / NAME / 'core'
    core.mkdir(parents=True)
    (core / 'a.py').write_text('from .b import x\n')
    (core / 'b.py').write_text('def f():\n    from .c import y\n')
    (core / 'c.py').write_text('from . import a\n')
    assert import_cycle(str(tmp_path / NAME)) == ['a', 'b', 'c', 'a']


def run_python(code: str, *args, cwd=None):
    proc = subprocess.run(
        [sys.executable, '-c', code, *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_core_imports_without_opencompass():
    proc = run_python(
        WITHOUT_OPENCOMPASS
        + textwrap.dedent('''
        from opencompass_llmcompression.core import (score_documents, sliding_windows,
                                                     load_corpus, WindowScorer)
        import opencompass_llmcompression as package
        from opencompass_llmcompression import score_documents as public
        assert public is score_documents
        try:
            package.SlidingWindowPPLInferencer
        except ImportError as err:
            print('refused:', err)
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('opencompass', 'mmengine')))
    ''')
    )
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('refused:') and 'opencompass' in lines[0]
    assert lines[1] == "['mmengine', 'opencompass']"  # only the two blocked entries


def test_the_corpus_builder_imports_no_model_library(tmp_path):
    """A build of every kind the builder reads without a model (web, plain files, records)
    imports neither torch nor transformers: they come only with ``--tokenizer``."""
    crawl = tmp_path / 'crawl'
    crawl.mkdir()
    text = 'The builder reads files and writes a corpus of whole documents, one per file. ' * 8
    (crawl / 'notes.txt').write_text(text)
    proc = run_python(
        textwrap.dedent(f'''
        import sys
        from opencompass_llmcompression.corpus.cli import main
        argv = ['--name', 'n', '--kind', 'text', '--source', {str(crawl)!r}, '--out', {str(tmp_path)!r}]
        assert main(argv) == 0
        import opencompass_llmcompression.corpus.web, opencompass_llmcompression.corpus.arxiv
        import opencompass_llmcompression.corpus.git_sources, opencompass_llmcompression.corpus.code_cleaning
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')))
    ''')
    )
    assert proc.stdout.splitlines()[-1] == '[]'


def test_paper_command_line_without_opencompass(tiny_model_dir, tokenizer, tmp_path):
    """``python -m opencompass_llmcompression`` with OpenCompass unimportable: its three lines,
    and a BPC equal to the brute-force scorer's."""
    from transformers import AutoModelForCausalLM

    contents = real_documents('python', 6, max_chars=700)
    write_jsonl(str(tmp_path / 'data' / 'python.jsonl'), contents)
    env = dict(os.environ, HF_HUB_OFFLINE='1', LLMCOMPRESSION_CACHE=str(tmp_path / 'cache'))
    proc = subprocess.run(
        [
            sys.executable,
            '-c',
            WITHOUT_OPENCOMPASS + 'import runpy; sys.argv[0] = "x"; '
            'runpy.run_module("opencompass_llmcompression", run_name="__main__")',
            '--model_name',
            tiny_model_dir,
            '--task_name',
            'python',
            '--data_dir',
            str(tmp_path / 'data'),
            '--block_size',
            '48',
            '--stride',
            '16',
            '--batch_size',
            '3',
            '--output',
            str(tmp_path / 'result.json'),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert [line.split(': ')[0] for line in lines] == ['Total loss', 'Character num', 'BPC']
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    nll, _ = brute_force_nll(model, tokenizer, contents, 48, 16)
    chars = sum(len(c) for c in contents)
    assert int(lines[1].split(': ')[1]) == chars
    assert float(lines[2].split(': ')[1]) == pytest.approx(nll.sum() / (chars * np.log(2)), rel=1e-6)
    assert json.loads((tmp_path / 'result.json').read_text())['chars'] == chars


def test_public_names_and_registry_names():
    """The names configs and suites use, and the names OpenCompass's registry resolves,
    including by string in a process that loaded OpenCompass before this package."""
    from opencompass_llmcompression import (
        CompressionCorpusDataset,
        CompressionEvaluator,
        CompressionSummarizer,
        CorpusError,
        SlidingWindowPPLInferencer,
        compression_metrics,
        core,
        load_corpus,
        score_documents,
    )

    assert (load_corpus, CorpusError, score_documents) == (
        core.load_corpus,
        core.CorpusError,
        core.score_documents,
    )
    assert compression_metrics is core.compression_metrics
    assert [
        c.__module__
        for c in (
            CompressionCorpusDataset,
            SlidingWindowPPLInferencer,
            CompressionEvaluator,
            CompressionSummarizer,
        )
    ] == [f'{NAME}.openicl.{m}' for m in ('dataset', 'inferencer', 'evaluator', 'summarizer')]
    proc = run_python(
        textwrap.dedent('''
        import opencompass
        import opencompass_llmcompression
        from opencompass.registry import ICL_EVALUATORS, ICL_INFERENCERS, LOAD_DATASET
        print(ICL_INFERENCERS.get('SlidingWindowPPLInferencer').__module__,
              ICL_INFERENCERS.get('SlidingWindowInferencer').__name__,  # its earlier name
              LOAD_DATASET.get('CompressionCorpusDataset').__module__,
              ICL_EVALUATORS.get('CompressionEvaluator').__module__,
              ICL_INFERENCERS.get('SWCELossInferencer').__module__.split('.')[0],
              LOAD_DATASET.get('LLMCompressionDataset').__module__.split('.')[0])
    ''')
    )
    assert proc.stdout.split() == [
        f'{NAME}.openicl.inferencer',
        'SlidingWindowPPLInferencer',
        f'{NAME}.openicl.dataset',
        f'{NAME}.openicl.evaluator',
        'opencompass',
        'opencompass',
    ]


@pytest.mark.parametrize(
    'config', ['datasets/llm_compression/llm_compression.py', 'summarizers/llm_compression.py']
)
def test_configs_load_from_the_project_and_from_the_package(config):
    from mmengine.config import Config

    from opencompass_llmcompression import CONFIG_DIR

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for folder in (os.path.join(root, 'configs'), CONFIG_DIR):
        cfg = Config.fromfile(os.path.join(folder, config))
        if 'datasets' in config:
            (first, *_) = cfg['llm_compression_datasets']
            assert [d['abbr'] for d in cfg['llm_compression_datasets']] == [
                'llm_compression-cc',
                'llm_compression-python',
                'llm_compression-arxiv_math',
            ]
            assert first['type'].__name__ == 'CompressionCorpusDataset'
            assert first['infer_cfg']['inferencer']['type'].__name__ == 'SlidingWindowPPLInferencer'
            assert first['eval_cfg']['evaluator']['type'].__name__ == 'CompressionEvaluator'
        else:
            assert cfg['summarizer']['type'].__name__ == 'CompressionSummarizer'
