"""Runs that survive: checkpoints, damaged caches, non-finite losses, hostile text, odd
tokenizers, full disks and read-only data. Every outcome is compared with an uninterrupted,
independent computation."""

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from brute_force import brute_force_nll
from conftest import make_tiny_model, real_documents, smollm2_tokenizer_dir, write_jsonl
from opencompass.openicl.icl_retriever import ZeroRetriever

from opencompass_llmcompression import (
    CompressionCorpusDataset,
    CompressionEvaluator,
    SlidingWindowPPLInferencer,
    load_corpus,
    score_documents,
)
from opencompass_llmcompression.core import finite_output, scoring_loop
from opencompass_llmcompression.core.checkpoint import Checkpoint
from opencompass_llmcompression.core.scorer import WindowScorer
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.core.token_stream import load_or_build_stream, stream_key

BLOCK, STRIDE = 64, 16


@pytest.fixture(scope='module')
def contents():
    return real_documents('python', 4, max_chars=900) + real_documents('prose', 4, 600)


@pytest.fixture
def messages(monkeypatch):
    """What the scoring loop logs, as (level, text)."""
    seen = []
    logger = SimpleNamespace(
        info=lambda m: seen.append(('info', m)), warning=lambda m: seen.append(('warning', m))
    )
    monkeypatch.setattr(scoring_loop, 'LOGGER', logger)
    return seen


def score(model, tokenizer, contents, **kw):
    kw.setdefault('progress', False)
    return score_documents(
        model,
        tokenizer,
        contents,
        range(len(contents)),
        MeasurementSettings(BLOCK, STRIDE),
        batch_size=kw.pop('batch_size', 2),
        **kw,
    )


class Interrupted(Exception):
    pass


def interrupted(tiny_model, tokenizer, contents, calls, **kw):
    """Run with the scorer failing on its call number ``calls + 1``, as a killed run stops."""
    original, count = WindowScorer.__call__, []

    def failing(self, windows, num_scored):
        if len(count) == calls:
            raise Interrupted()
        count.append(1)
        return original(self, windows, num_scored)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WindowScorer, '__call__', failing)
        with pytest.raises(Interrupted):
            score(tiny_model, tokenizer, contents, **kw)


def test_an_interrupted_shard_resumes_to_the_same_sums(tiny_model, tokenizer, contents, tmp_path, messages):
    whole = score(tiny_model, tokenizer, contents)
    path = str(tmp_path / 'progress.npz')
    interrupted(tiny_model, tokenizer, contents, 5, checkpoint_path=path, checkpoint_interval=1e9)
    # batches of 2 windows, but the first window (it scores all its targets) is alone
    with np.load(path) as saved:  # saved on the way out even with a long interval
        assert int(saved['done']) == 1 + 4 * 2
    resumed = score(tiny_model, tokenizer, contents, checkpoint_path=path)
    assert np.array_equal(resumed[0], whole[0]) and np.array_equal(resumed[1], whole[1])
    (info,) = [m for level, m in messages if level == 'info']
    assert info.startswith(f'resuming from {path}: 9 of ') and 'windows already scored' in info


@pytest.mark.parametrize('change', ['stride', 'batch_size', 'rows', 'model'])
def test_a_checkpoint_of_other_settings_is_not_used(
    tiny_model, tokenizer, contents, tmp_path, messages, change
):
    path = str(tmp_path / 'progress.npz')
    interrupted(tiny_model, tokenizer, contents, 3, checkpoint_path=path)
    model, wanted, settings = tiny_model, list(range(len(contents))), (BLOCK, STRIDE, 2)
    if change == 'stride':
        settings = (BLOCK, STRIDE // 2, 2)
    elif change == 'batch_size':
        settings = (BLOCK, STRIDE, 3)
    elif change == 'rows':
        wanted = wanted[:5]
    else:
        model = type(tiny_model)(tiny_model.config)  # same shapes, other weights
        model.load_state_dict({k: v + 1e-3 for k, v in tiny_model.state_dict().items()})
        model.config = model.config.__class__.from_dict(
            dict(tiny_model.config.to_dict(), initializer_range=0.5)
        )
    block, stride, batch_size = settings
    window = MeasurementSettings(block, stride)
    nll, tokens = score_documents(
        model,
        tokenizer,
        contents,
        wanted,
        window,
        batch_size=batch_size,
        progress=False,
        checkpoint_path=path,
    )
    fresh = score_documents(model, tokenizer, contents, wanted, window, batch_size=batch_size, progress=False)
    assert np.array_equal(nll, fresh[0]) and np.array_equal(tokens, fresh[1])
    warnings = [m for level, m in messages if level == 'warning']
    assert len(warnings) == 1 and 'made with other settings' in warnings[0]


@pytest.mark.parametrize('damage', ['truncated', 'edited', 'empty'])
def test_a_damaged_checkpoint_restarts_the_shard(tiny_model, tokenizer, contents, tmp_path, messages, damage):
    whole = score(tiny_model, tokenizer, contents)
    path = str(tmp_path / 'progress.npz')
    interrupted(tiny_model, tokenizer, contents, 4, checkpoint_path=path)
    if damage == 'truncated':
        data = open(path, 'rb').read()
        open(path, 'wb').write(data[: len(data) // 2])
    elif damage == 'edited':  # valid archive, sums changed: only the checksum can tell
        with np.load(path) as saved:
            arrays = dict(saved)
        arrays['nll'] = arrays['nll'] * 2
        np.savez(path, **arrays)
    else:
        open(path, 'wb').close()
    resumed = score(tiny_model, tokenizer, contents, checkpoint_path=path)
    assert np.array_equal(resumed[0], whole[0])
    warnings = [m for level, m in messages if level == 'warning']
    assert len(warnings) == 1 and 'unreadable' in warnings[0] and 'starts over' in warnings[0]


def test_a_full_disk_keeps_the_checkpoint_and_says_how_to_go_on(tiny_model, tokenizer, tmp_path, monkeypatch):
    folder = str(tmp_path / 'data')
    write_jsonl(os.path.join(folder, 'cc.jsonl'), real_documents('prose', 6))
    out = str(tmp_path / 'predictions')
    dataset = CompressionCorpusDataset(
        path=folder, name='cc', reader_cfg=dict(input_columns=['content'], output_column=None)
    )
    inferencer = SlidingWindowPPLInferencer(
        SimpleNamespace(model=tiny_model, tokenizer=tokenizer),
        block_size=BLOCK,
        stride=STRIDE,
        output_json_filepath=out,
    )

    dump = json.dump

    def no_space_for_predictions(obj, f, **kwargs):
        if os.path.basename(f.name).startswith('.cc.json.'):  # its temporary file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return dump(obj, f, **kwargs)

    monkeypatch.setattr(finite_output.json, 'dump', no_space_for_predictions)  # dump_json's
    with pytest.raises(
        OSError,
        match=r'could not write the predictions .*cc.json \(No space '
        r'left on device\).*run again with -r.*kept in',
    ):
        inferencer.inference(ZeroRetriever(dataset), output_json_filename='cc.json')
    assert sorted(os.listdir(out)) == ['tmp_cc.progress.npz']  # no half-written file
    monkeypatch.undo()
    predictions = inferencer.inference(ZeroRetriever(dataset), output_json_filename='cc.json')
    assert sorted(os.listdir(out)) == ['cc.json']  # the checkpoint is gone once written
    want, _ = brute_force_nll(tiny_model, tokenizer, real_documents('prose', 6), BLOCK, STRIDE)
    np.testing.assert_allclose([p['nll'] for p in predictions], want, rtol=1e-6)


class NonFiniteAfter(torch.nn.Module):
    """A model whose logits overflow from its ``calls``-th forward on, as fp16 can."""

    def __init__(self, inner, calls):
        super().__init__()
        self.inner, self.config, self.calls = inner, inner.config, calls

    def forward(self, input_ids, use_cache=False):
        out = self.inner(input_ids=input_ids, use_cache=use_cache)
        self.calls -= 1
        if self.calls <= 0:
            out.logits = out.logits.clone()
            out.logits[:, -1, 0] = float('inf')
            out.logits[:, -1, 1] = float('-inf')
        return out

    def get_input_embeddings(self):
        return self.inner.get_input_embeddings()


def test_a_non_finite_loss_stops_with_the_window_and_the_dtype(tiny_model, tokenizer, contents, tmp_path):
    path = str(tmp_path / 'progress.npz')
    with pytest.raises(
        FloatingPointError,
        match=r'not finite in the window over stream tokens '
        r'\[\d+, \d+\) with the model in torch.float32',
    ):
        score(NonFiniteAfter(tiny_model, 3), tokenizer, contents, checkpoint_path=path)
    with np.load(path) as saved:  # the lone first window and one batch of 2
        assert int(saved['done']) == 3 and np.isfinite(saved['nll']).all()


def test_out_of_memory_halves_the_batch_and_gives_the_same_sums(tiny_model, tokenizer, contents, messages):
    """A batch that does not fit is run again in halves; one window that does not fit is a
    clear error (simulated: more than 2 windows at once, or any, 'run out of memory')."""
    want = score(tiny_model, tokenizer, contents, batch_size=2)
    original = WindowScorer.__call__
    for limit, batch_size in ((2, 7), (0, 3)):

        def limited(self, window_ids, num_scored, limit=limit):
            if window_ids.shape[0] > limit:
                raise torch.OutOfMemoryError('CUDA out of memory (simulated)')
            return original(self, window_ids, num_scored)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(WindowScorer, '__call__', limited)
            if limit:
                nll, tokens = score(tiny_model, tokenizer, contents, batch_size=batch_size)
                np.testing.assert_allclose(nll, want[0], rtol=1e-9)
                assert np.array_equal(tokens, want[1])
            else:
                with pytest.raises(
                    torch.OutOfMemoryError,
                    match=r'one window of 64 tokens '
                    r'does not fit in memory',
                ):
                    score(tiny_model, tokenizer, contents, batch_size=batch_size)
    warnings = [m for level, m in messages if level == 'warning']
    assert warnings[:2] == [
        'out of memory with 7 windows per forward pass; going on with 3',
        'out of memory with 3 windows per forward pass; going on with 1',
    ]


HOSTILE = {
    'cjk': '中文文本，数学公式 ∑ 和 日本語のテキスト。한국어 문장.',
    'emoji': 'Emoji 🙂👍🏽 and a family 👨‍👩‍👧 in one line.',
    'combining': 'e\u0301 vs \u00e9, a\u030a, Z\u0351\u0352\u0353 text',
    'nul': 'before\x00after\x00\x00end',
    'surrogate': json.loads('"lone \\ud83d surrogate and \\udc00 another"'),
    'crlf': 'line one\r\nline two\r\n\r\nline four\r\n',
    'one_char': 'x',
}


# characters (Python code points) and UTF-8 bytes (a lone surrogate as 3), counted by hand
HAND_COUNTS = {
    'cjk': (30, 80),
    'emoji': (41, 63),
    'combining': (22, 28),
    'nul': (17, 17),
    'surrogate': (30, 34),
    'crlf': (33, 33),
    'one_char': (1, 1),
}


def test_hostile_text_is_counted_as_written_and_scored(tiny_model, tokenizer, tmp_path):
    folder = str(tmp_path / 'data')
    os.makedirs(folder)
    with open(os.path.join(folder, 'cc.jsonl'), 'w', encoding='utf-8') as f:
        for text in HOSTILE.values():  # json.dumps escapes the lone surrogates
            f.write(json.dumps({'content': text}) + '\n')
    dataset = CompressionCorpusDataset(
        path=folder, name='cc', reader_cfg=dict(input_columns=['content'], output_column=None)
    )
    inferencer = SlidingWindowPPLInferencer(
        SimpleNamespace(model=tiny_model, tokenizer=tokenizer),
        block_size=16,
        stride=4,
        output_json_filepath=str(tmp_path / 'out'),
    )
    rows = inferencer.inference(ZeroRetriever(dataset), output_json_filename='cc.json')
    assert {name: (r['chars'], r['bytes']) for name, r in zip(HOSTILE, rows)} == HAND_COUNTS
    # the tokenizer sees each lone surrogate as U+FFFD
    tokenizable = [t.replace('\ud83d', '\ufffd').replace('\udc00', '\ufffd') for t in HOSTILE.values()]
    want, want_tokens = brute_force_nll(tiny_model, tokenizer, tokenizable, 16, 4)
    np.testing.assert_allclose([r['nll'] for r in rows], want, rtol=1e-6)
    assert [r['tokens'] for r in rows] == want_tokens.tolist()
    result = CompressionEvaluator().score(rows)
    assert np.isfinite(result['bpc']) and result['chars'] == 174 and result['bytes'] == 256


@pytest.mark.slow  # over 10 s on 2 cores
def test_a_single_20_mb_document(tokenizer, tmp_path):
    text = '\n'.join(real_documents('prose', 40, 4000)) + '\r\n数学 🙂\n'
    text = (text * (20_000_000 // len(text) + 1))[:20_000_000]
    write_jsonl(str(tmp_path / 'cc.jsonl'), [text])
    (document,) = load_corpus(str(tmp_path), 'cc')
    assert len(document['content']) == 20_000_000
    stream = load_or_build_stream([document['content']], tokenizer, str(tmp_path / 'cache'))
    assert stream.doc_offsets.tolist() == [0, stream.num_tokens]
    assert stream.num_tokens > 3_000_000


def with_post_processor(template: str):
    from tokenizers.processors import TemplateProcessing
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())
    tokenizer._tokenizer.post_processor = TemplateProcessing(
        single=template, special_tokens=[('<|im_start|>', 1), ('<|im_end|>', 2)]
    )
    return tokenizer


@pytest.mark.parametrize(
    'template,first,last',
    [
        ('$A', None, None),
        ('<|im_start|> $A', 1, None),
        ('$A <|im_end|>', None, 2),
        ('<|im_start|> $A <|im_end|>', 1, 2),
    ],
)
def test_tokenizers_with_bos_eos_both_or_neither(tiny_model, contents, template, first, last):
    """Each document is tokenized with the special tokens its tokenizer adds: a BOS opens every
    document and an EOS closes it, and both are scored like any token (as the paper's code)."""
    tokenizer = with_post_processor(template)
    ids = tokenizer.encode('some text')
    assert (ids[0] == first) == (first is not None) and (ids[-1] == last) == (last is not None)
    nll, tokens = score_documents(
        tiny_model,
        tokenizer,
        contents,
        range(len(contents)),
        MeasurementSettings(BLOCK, STRIDE),
        progress=False,
    )
    want, want_tokens = brute_force_nll(tiny_model, tokenizer, contents, BLOCK, STRIDE)
    np.testing.assert_allclose(nll, want, rtol=1e-6)
    assert tokens.sum() == sum(len(tokenizer.encode(c)) for c in contents) - 1


def test_added_tokens_beyond_the_models_embeddings_are_named(tiny_model):
    tokenizer = with_post_processor('$A')
    tokenizer.add_tokens(['<brand-new-token>'])
    with pytest.raises(
        ValueError,
        match=r'token id 49152, outside the model\'s vocabulary of '
        r'49152 embeddings',
    ):
        score_documents(
            tiny_model,
            tokenizer,
            ['a <brand-new-token> here'],
            [0],
            MeasurementSettings(16, 4),
            progress=False,
        )


@pytest.mark.parametrize('damage', ['truncated', 'pickled', 'foreign'])
def test_a_damaged_or_foreign_token_cache_is_rebuilt(tokenizer, contents, tmp_path, damage):
    cache = str(tmp_path)
    good = load_or_build_stream(contents, tokenizer, cache).token_ids.tolist()
    folder = os.path.join(cache, 'streams', stream_key(contents, tokenizer))
    tokens_file = os.path.join(folder, 'tokens.npy')
    if damage == 'truncated':  # as a killed copy would leave it
        data = open(tokens_file, 'rb').read()
        open(tokens_file, 'wb').write(data[: len(data) // 3])
    elif damage == 'pickled':
        np.save(tokens_file, np.array([{'not': 'tokens'}], dtype=object), allow_pickle=True)
    else:  # a cache copied from another corpus, checksums and all
        other = load_or_build_stream(contents[:2], tokenizer, str(tmp_path / 'other'))
        other_folder = os.path.join(str(tmp_path / 'other'), 'streams', stream_key(contents[:2], tokenizer))
        for name in os.listdir(other_folder):
            os.replace(os.path.join(other_folder, name), os.path.join(folder, name))
        assert other.num_tokens < len(good)
    warnings = []
    rebuilt = load_or_build_stream(
        contents, tokenizer, cache, logger=SimpleNamespace(warning=warnings.append)
    )
    assert rebuilt.token_ids.tolist() == good
    assert len(warnings) == 1 and 'building it again' in warnings[0]
    assert [n for n in os.listdir(os.path.join(cache, 'streams')) if n.startswith('.')] == []


CONCURRENT = textwrap.dedent('''
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    from conftest import real_documents
    from opencompass_llmcompression.core import MeasurementSettings, score_documents, \
        token_stream as stream
    from transformers import AutoModelForCausalLM, AutoTokenizer
    write = stream._write_stream
    def counted(*args):
        open(os.path.join(sys.argv[3], f'built-{os.getpid()}'), 'w').close()
        return write(*args)
    stream._write_stream = counted
    model = AutoModelForCausalLM.from_pretrained(sys.argv[2]).eval()
    tokenizer = AutoTokenizer.from_pretrained(sys.argv[2])
    docs = real_documents('prose', 40)
    nll, _ = score_documents(model, tokenizer, docs, range(len(docs)),
                             MeasurementSettings(64, 32), progress=False)
    print(json.dumps(nll.tolist()))
''')


@pytest.mark.slow  # over 10 s on 2 cores
def test_shards_of_several_models_starting_at_once_build_the_cache_once(tiny_model_dir, tmp_path):
    other_model = make_tiny_model(str(tmp_path / 'other-model'), seed=1)
    markers = tmp_path / 'markers'
    markers.mkdir()
    env = dict(
        os.environ,
        LLMCOMPRESSION_CACHE=str(tmp_path / 'cache'),
        HF_HUB_OFFLINE='1',
        TOKENIZERS_PARALLELISM='false',
        OMP_NUM_THREADS='1',
    )
    tests = os.path.dirname(os.path.abspath(__file__))
    procs = [
        subprocess.Popen(
            [sys.executable, '-c', CONCURRENT, tests, model, str(markers)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for model in (tiny_model_dir, other_model, tiny_model_dir, other_model)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    assert len(os.listdir(markers)) == 1  # one process built it, three waited and read it
    sums = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sums[0] == sums[2] and sums[1] == sums[3] and sums[0] != sums[1]


def test_a_read_only_data_folder_is_read_and_left_alone(tiny_model, tokenizer, tmp_path):
    folder = tmp_path / 'data'
    write_jsonl(str(folder / 'cc.jsonl'), real_documents('prose', 5))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        dataset = CompressionCorpusDataset(
            path=str(folder), name='cc', reader_cfg=dict(input_columns=['content'], output_column=None)
        )
        inferencer = SlidingWindowPPLInferencer(
            SimpleNamespace(model=tiny_model, tokenizer=tokenizer),
            block_size=BLOCK,
            stride=STRIDE,
            output_json_filepath=str(tmp_path / 'out'),
        )
        inferencer.inference(ZeroRetriever(dataset), output_json_filename='cc.json')
    finally:
        folder.chmod(stat.S_IRWXU)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_shard_files_of_another_split_are_refused():
    """OpenCompass's evaluation reads shard files _0, _1, ... while they exist and cuts the list
    to the corpus size: files of two different splits side by side repeat some documents and
    lose others, which the evaluator names instead of giving a number."""
    rows = [dict(nll=1.0, tokens=2, chars=3, bytes=3, document_index=i) for i in range(9)]
    mixed = (rows[:5] + rows[3:])[: len(rows)]  # a new _0 beside an older, wider _1
    result = CompressionEvaluator().score(mixed)
    assert set(result) == {'error'} and 'repeated' in result['error']


def test_remote_code_runs_only_when_asked(monkeypatch, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from opencompass_llmcompression import paper_cli

    seen = []

    def capture(name, **kwargs):
        seen.append(kwargs.get('trust_remote_code'))
        raise OSError('stop here')

    monkeypatch.setattr(AutoModelForCausalLM, 'from_pretrained', capture)
    monkeypatch.setattr(AutoTokenizer, 'from_pretrained', capture)
    corpus = write_jsonl(str(tmp_path / 'c.jsonl'), ['text'])
    assert paper_cli.main(['--model_name', 'm', '--task_name', corpus]) == 1
    assert paper_cli.main(['--model_name', 'm', '--task_name', corpus, '--trust_remote_code']) == 1
    assert seen == [False, True]


def test_checkpoint_files_hold_no_pickle(tmp_path):
    path = str(tmp_path / 'c.npz')
    checkpoint = Checkpoint(path, dict(a=1))
    checkpoint.save(3, np.array([0.5, 0.0]), np.array([2, 0]), force=True)
    with np.load(path, allow_pickle=False) as saved:
        assert all(saved[k].dtype != object for k in saved.files)
    assert Checkpoint(path, dict(a=1)).load(2)[0] == 3
