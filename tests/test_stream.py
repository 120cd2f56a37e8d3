"""The token stream: same ids as tokenizer.encode, built once, shared, never half-written."""

import os
import threading

import numpy as np
from conftest import real_documents

from opencompass_llmcompression.core import token_stream as stream_module
from opencompass_llmcompression.core.token_stream import load_or_build_stream


def test_stream_is_the_concatenation_of_encode(tokenizer, tmp_path):
    docs = real_documents('prose', 20) + ['', 'émoji 🙂 and 数学', 'x']
    s = load_or_build_stream(docs, tokenizer, str(tmp_path))
    expect = [tokenizer.encode(d) for d in docs]
    assert s.token_ids.tolist() == [t for ids in expect for t in ids]
    assert np.diff(s.doc_offsets).tolist() == [len(x) for x in expect]
    assert s.num_tokens == len(s.token_ids) and s.text_check.held


def test_cache_is_reused_and_keyed_by_corpus(tokenizer, tmp_path, monkeypatch):
    docs = real_documents('python', 5)
    load_or_build_stream(docs, tokenizer, str(tmp_path))
    calls = []
    monkeypatch.setattr(
        stream_module, 'build_stream', lambda *a: calls.append(1) or stream_module.TokenStream(None, None)
    )
    again = load_or_build_stream(docs, tokenizer, str(tmp_path))  # read from disk
    assert calls == [] and isinstance(again.token_ids, np.memmap)
    assert len(os.listdir(tmp_path / 'streams')) == 2  # the folder and its lock
    monkeypatch.undo()
    load_or_build_stream(docs[:4], tokenizer, str(tmp_path))
    assert len([n for n in os.listdir(tmp_path / 'streams') if not n.endswith('.lock')]) == 2


def test_concurrent_shards_build_once(tokenizer, tmp_path, monkeypatch):
    docs = real_documents('prose', 30)
    built = []
    original = stream_module.build_stream
    monkeypatch.setattr(stream_module, 'build_stream', lambda *a: built.append(1) or original(*a))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(load_or_build_stream(docs, tokenizer, str(tmp_path))))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1] and len(results) == 4
    assert all(r.token_ids.tolist() == results[0].token_ids.tolist() for r in results)
    leftovers = [n for n in os.listdir(tmp_path / 'streams') if n.startswith('.tmp')]
    assert leftovers == []


def test_a_stream_built_meanwhile_elsewhere_is_kept(tokenizer, tmp_path):
    """Two nodes whose file locks do not see each other build the same stream: the second
    rename finds the first one's folder, keeps it and discards its own."""
    docs = real_documents('prose', 8)
    first = load_or_build_stream(docs, tokenizer, str(tmp_path)).token_ids.tolist()
    folder = os.path.join(tmp_path, 'streams', stream_module.stream_key(docs, tokenizer))
    # the late builder checked before the folder existed and renames its own into place now
    late = stream_module.build_stream(docs, tokenizer)
    check = stream_module.check_round_trip(docs, late.token_ids, late.doc_offsets, tokenizer)
    stream_module._write_stream(late, folder, len(docs), check)
    assert load_or_build_stream(docs, tokenizer, str(tmp_path)).token_ids.tolist() == first
    assert [n for n in os.listdir(tmp_path / 'streams') if n.startswith('.tmp')] == []
