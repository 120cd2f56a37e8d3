"""``llmcompression-collect code`` and ``arxiv`` from nothing to dated corpora whose manifests
name their collections, from servers on 127.0.0.1 replaying answers recorded by others, and
the two corpora measured through OpenCompass's folder config."""

import hashlib
import json
import os

import pytest
from loopback_server import LoopbackServer
from test_collect_arxiv import CHAIN, OAI, paper_bytes
from test_collect_github import GRAPHQL, PAGE1, json_answer, make_repository, page

from opencompass_llmcompression.collect import arxiv_oai, arxiv_sources, cli
from opencompass_llmcompression.core.metrics import bits_per


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def plain_modules(count):
    """The real text of Python standard-library modules that CodeParrot's cleaning keeps whole
    (functions, assignments, no test or configuration words), so the corpus holds each one."""
    from conftest import real_documents

    texts = real_documents('python', 120, 3000)
    kept = [t for t in texts if t.count('=') > 10 and 'def ' in t]
    kept = [t for t in kept if 'test' not in t.lower() and 'config' not in t.lower()]
    assert len(kept) >= count
    return kept[:count]


@pytest.fixture
def sources(tmp_path):
    """Three repositories, each the real text of three Python standard-library modules."""
    root = str(tmp_path / 'git')
    texts = plain_modules(9)
    for i, (name, _) in enumerate(PAGE1[:3]):
        make_repository(root, name, texts[3 * i : 3 * i + 3])
    return root, texts


def collect_code(server, root, tmp_path, corpora):
    server.script(GRAPHQL, json_answer(page(1)))
    out = tmp_path / 'code'
    argv = ['code', '--language', 'java', '--created-after', '2000-01-01', '--repositories', '3']
    argv += ['--github-api-url', server.url(), '--git-url', 'file://' + root, '--out', str(out), '--quiet']
    argv += ['--build', 'code', '--corpus-out', str(corpora), '--', '--after', '2026-01-15', '--jobs', '1']
    return out, cli.main(argv)


def collect_math(server, tmp_path, corpora, monkeypatch):
    monkeypatch.setattr(arxiv_oai, 'INTERVAL', 0.0)  # arXiv's 3 s, not kept by a loopback server
    monkeypatch.setattr(arxiv_sources, 'EPRINT_INTERVAL', 0.0)
    server.script(OAI, *CHAIN)
    server.serve('/e-print/1401.2122', paper_bytes())
    out = tmp_path / 'math'
    argv = ['arxiv', '--from', '2014-01-01', '--until', '2014-01-31', '--metadata-format', 'arXiv']
    argv += [
        '--oai-url',
        server.url(OAI),
        '--eprint-url',
        server.url('/e-print'),
        '--out',
        str(out),
        '--quiet',
    ]
    argv += ['--build', 'arxiv_math', '--corpus-out', str(corpora), '--', '--after', '2014-01-01']
    return out, cli.main(argv)


def named_collection(corpora, name, out):
    with open(os.path.join(corpora, f'{name}.manifest.json')) as f:
        manifest = json.load(f)
    (named,) = manifest['collections']
    collection_file = out / 'collection.json'
    assert named['path'] == str(collection_file)
    assert named['sha256'] == hashlib.sha256(collection_file.read_bytes()).hexdigest()
    return named, manifest


def rows(corpora, name):
    with open(os.path.join(corpora, f'{name}.jsonl')) as f:
        return [json.loads(line) for line in f]


def test_code_from_a_search_to_a_corpus_of_the_files_added_in_the_period(
    server, sources, tmp_path, monkeypatch
):
    root, texts = sources
    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    corpora = tmp_path / 'corpora'
    out, status = collect_code(server, root, tmp_path, corpora)
    assert status == 0
    named, manifest = named_collection(corpora, 'code', out)
    assert named['kind'] == 'code' and named['query']['language'] == 'java'
    documents = rows(corpora, 'code')
    # by hand: only third.py of each repository was added on or after 2026-01-15 (2026-02-05);
    # first.py and moved.py (added as second.py) date from 2026-01-10
    assert sorted((d['meta']['repo'], d['meta']['path']) for d in documents) == sorted(
        (name, 'third.py') for name, _ in PAGE1[:3]
    )
    assert sorted(d['content'] for d in documents) == sorted(texts[2::3])
    assert {d['meta']['date'] for d in documents} == {'2026-02-05'}


def test_mathematics_from_a_period_to_a_corpus_of_its_papers(server, tmp_path, monkeypatch):
    corpora = tmp_path / 'corpora'
    out, status = collect_math(server, tmp_path, corpora, monkeypatch)
    assert status == 0
    named, manifest = named_collection(corpora, 'arxiv_math', out)
    assert named['kind'] == 'arxiv' and named['query']['from'] == '2014-01-01'
    (document,) = rows(corpora, 'arxiv_math')
    assert document['meta']['id'] == '1401.2122' and document['meta']['date'] == '2014-01-09'
    assert 'Equational Theories Project' in document['content']


@pytest.mark.cli
def test_both_collections_measure_through_opencompass(server, sources, tmp_path, monkeypatch, tiny_model_dir):
    from opencompass_runs import OPENCOMPASS, run_opencompass

    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    corpora = tmp_path / 'corpora'
    assert collect_code(server, sources[0], tmp_path, corpora)[1] == 0
    assert collect_math(server, tmp_path, corpora, monkeypatch)[1] == 0
    monkeypatch.setenv('LLMCOMPRESSION_CORPORA', str(corpora))
    args = [OPENCOMPASS, '--datasets', 'llm_compression_folder', '--hf-type', 'base', '--hf-path']
    args += [tiny_model_dir, '--hf-num-gpus', '0', '-w', 'work', '--summarizer', 'llm_compression']
    results, _, _ = run_opencompass(args, str(tmp_path / 'run'), str(tmp_path))
    for name in ('code', 'arxiv_math'):
        result = results[f'llm_compression-{name}']
        chars = sum(len(r['content']) for r in rows(corpora, name))
        assert result['chars'] == chars
        assert result['bpc'] == pytest.approx(bits_per(result['nll'], chars), rel=1e-12)


def test_a_second_run_of_both_fetches_nothing(server, sources, tmp_path, monkeypatch):
    monkeypatch.setenv('GITHUB_TOKEN', 'ghp_not_a_real_one')
    corpora = tmp_path / 'corpora'
    assert collect_code(server, sources[0], tmp_path, corpora)[1] == 0
    assert collect_math(server, tmp_path, corpora, monkeypatch)[1] == 0
    seen = len(server.log)
    assert collect_code(server, sources[0], tmp_path, tmp_path / 'again')[1] == 0
    assert collect_math(server, tmp_path, tmp_path / 'again', monkeypatch)[1] == 0
    assert len(server.log) == seen
