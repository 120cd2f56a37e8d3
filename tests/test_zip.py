"""llmcompression-zip: byte-for-byte round trips, a file size that is the measured BPC, and a
clear refusal for every input it cannot handle, before any output exists."""

import copy
import hashlib
import math
import os
import re
import subprocess
import sys
import zlib
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import ASSETS, make_tiny_model, real_documents

from opencompass_llmcompression import demo
from opencompass_llmcompression.core.scoring_loop import score_documents
from opencompass_llmcompression.core.settings import PAPER, MeasurementSettings
from opencompass_llmcompression.zip import cli, container
from opencompass_llmcompression.zip.compressor import compress_bytes, decompress_bytes, torch_threads
from opencompass_llmcompression.zip.container import HEADER_SIZE, ZipError, pack, unpack

TEXTS = {
    'prose': 'The quick brown fox jumps over the lazy dog. It was the best of times, it was the '
    'worst of times; it was the age of wisdom.\n\nA second paragraph follows.',
    'python': 'def mean(xs):\n    """Average."""\n    return sum(xs) / len(xs)  # float\n\n'
    'print(mean([1, 2, 3]))\n',
    'latex': r'\begin{equation} \int_0^\infty e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2} \end{equation}'
    '\n% a comment\n',
    'cjk': '压缩即智能。言語モデルは圧縮器である。한국어 문장도 있다.',
    'emoji': 'family: 👩\u200d👩\u200d👧\u200d👦, flag: 🏳️\u200d🌈, skin: 👍🏽, keycap: 1️⃣',
    'combining': 'e\u0301 (decomposed é), a\u0308, Z\u0335\u0321a\u0336l\u0337g\u0338o, Å vs Å',
    'nul': 'before\x00after\x00\x00end',
    'crlf': 'line one\r\nline two\r\n\r\nline four\rlone CR\n',
    'specials': '\ufeffBOM, \ufffe\uffff\ufdd0 noncharacters, \ue000\uf8ff private use, '
    '\U0010ffff\U000ffffd plane 16, \x7f DEL \x85 NEL \x9f',
    'one character': 'x',
    'empty': '',
}
# small windows, so even short texts need several of them (context restarts)
SMALL = MeasurementSettings(block_size=16, stride=5)


def round_trip(text_or_bytes, model, tokenizer, settings=PAPER, **options):
    data = text_or_bytes if isinstance(text_or_bytes, bytes) else text_or_bytes.encode('utf-8')
    result = compress_bytes(data, model, tokenizer, settings, **options)
    assert decompress_bytes(result.blob, model, tokenizer) == data
    return result


def evaluator_bits(model, tokenizer, text, settings):
    with torch_threads(1):  # far faster on shared cores, and the same sums
        nll, _ = score_documents(model, tokenizer, [text], [0], settings, progress=False)
    return nll[0] / math.log(2)


@pytest.mark.parametrize('name', list(TEXTS))
def test_round_trip_with_the_tiny_model(name, tiny_model, tokenizer):
    result = round_trip(TEXTS[name], tiny_model, tokenizer, settings=SMALL)
    assert len(result.bits) == len(tokenizer.encode(TEXTS[name]))


def test_round_trip_with_the_default_windows_and_real_text(tiny_model, tokenizer):
    text = real_documents('python', 1, 3000)[0]
    result = round_trip(text, tiny_model, tokenizer, settings=MeasurementSettings(300, 128))
    assert len(result.bits) > 600  # several windows


def test_size_is_the_sum_of_minus_log2_p_and_that_sum_is_the_evaluators(tiny_model, tokenizer):
    """The random model gives many tokens less than the coder's smallest probability (2**-24),
    so the file can be smaller than the sum: the bound is one-sided here, two-sided below
    with SmolLM2."""
    for text in (TEXTS['prose'], TEXTS['python'] * 3, TEXTS['emoji']):
        result = compress_bytes(text.encode(), tiny_model, tokenizer, settings=SMALL)
        assert len(result.blob) - result.payload_bytes == HEADER_SIZE
        assert 8 * result.payload_bytes <= 1.01 * result.bits.sum() + 64
        assert result.bits[0] == pytest.approx(math.log2(len(tokenizer)))
        expected = evaluator_bits(tiny_model, tokenizer, text, settings=SMALL)
        assert result.model_bits == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize('segments', [2, 3, 7, 50])
def test_segments_coded_in_one_batch(segments, tiny_model, tokenizer):
    text = TEXTS['python'] + TEXTS['cjk']  # 100 tokens
    result = round_trip(text, tiny_model, tokenizer, segments=segments, settings=SMALL)
    assert unpack(result.blob)[0].segments == segments
    assert np.sum(result.bits == math.log2(len(tokenizer))) == segments  # first tokens
    assert 8 * result.payload_bytes <= 1.01 * result.bits.sum() + 64


@pytest.fixture(scope='module')
def smollm2():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = demo.smollm2_model_dir(ASSETS)
    return (
        AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval(),
        AutoTokenizer.from_pretrained(folder),
    )


@pytest.mark.parametrize(
    'text',
    [
        real_documents('prose', 1, 400)[0],
        TEXTS['python']
        + TEXTS['latex'][:40]
        + TEXTS['cjk'][:10]
        + TEXTS['emoji'][:25]
        + TEXTS['combining'][:12]
        + TEXTS['nul']
        + TEXTS['crlf'][:20],
    ],
    ids=['prose', 'mixed'],
)
@pytest.mark.slow  # over 10 s on 2 cores
def test_smollm2_on_real_text(text, smollm2):
    """Byte for byte; the payload within 1% (and a word or two) of the -log2 p sum both ways;
    that sum within 1e-4 of what score_documents gives."""
    model, tokenizer = smollm2
    settings = MeasurementSettings(48, 16)
    result = round_trip(text, model, tokenizer, settings)
    assert abs(8 * result.payload_bytes - result.bits.sum()) <= 0.01 * result.bits.sum() + 64
    expected = evaluator_bits(model, tokenizer, text, settings)
    assert result.model_bits == pytest.approx(expected, rel=1e-4)
    assert 8 * result.payload_bytes < 0.5 * 8 * len(text.encode())  # it does compress


@pytest.mark.slow  # over 10 s on 2 cores
def test_smollm2_segments(smollm2):
    """Four segments in one batch: still byte for byte and the size of its -log2 p sum,
    larger than one segment by the first tokens and the lost context."""
    model, tokenizer = smollm2
    text = real_documents('prose', 1, 400)[0]
    result = round_trip(text, model, tokenizer, MeasurementSettings(48, 16), segments=4)
    assert abs(8 * result.payload_bytes - result.bits.sum()) <= 0.01 * result.bits.sum() + 64
    single = compress_bytes(text.encode(), model, tokenizer, MeasurementSettings(48, 16))
    assert result.bits.sum() > single.bits.sum() + 3 * 15


@pytest.mark.slow  # over 10 s on 2 cores
def test_smollm2_on_a_real_text_with_odd_characters(smollm2):
    """SmolLM2 itself on prose with a few characters its tokenizer drops: byte for byte;
    ordinary text pays nothing for the escape (random inputs through SmolLM2: below)."""
    model, tokenizer = smollm2
    prose = real_documents('prose', 1, 400)[0]
    odd = prose[:100] + '\x1d' + prose[100:200] + '\x04\U00050000' + prose[200:]
    result = round_trip(odd.encode(), model, tokenizer, settings=MeasurementSettings(48, 16))
    assert (result.escaped, result.spans) == (6, 2)


ODD = {  # what SmolLM2's tokenizer cannot reproduce, and bytes that are not UTF-8
    'not UTF-8': (b'abc\xff\xfe and \xc3\x28 and a lone surrogate \xed\xa0\x80.', 6),
    'GS1 separator': (b'(01)09501101530003\x1d(17)140704\x1d(10)AB-123', 2),
    'missing control bytes': (bytes([4, 6, 0x13, 0x14, 0x16, 0x1D]) + b'text\x04', 7),
    'astral plane 4-11': ('a \U00040000 b \U000bffff c \U0001f600'.encode(), 8),
    'only escapes': (b'\x04\x06', 2),
    'overlong, truncated, surrogate pair as CESU-8': (
        b'\xc0\x80 \xe0\x80\xaf \xe2\x82 \xf4\x90\x80\x80 \xed\xa0\xbd\xed\xb8\x80 \x80\xbf end \xe2',
        20,
    ),
    # the 6 control bytes above, and the 128 bytes from 0x80 on, none of which starts a valid
    # UTF-8 sequence in this order (continuations, C0/C1, leads followed by a lead or 0xff)
    'all bytes': (bytes(range(256)), 6 + 128),
}


@pytest.mark.parametrize('name', list(ODD))
def test_what_the_tokenizer_cannot_code_takes_the_escape(name, tiny_model, tokenizer):
    data, escaped = ODD[name]
    result = compress_bytes(data, tiny_model, tokenizer, settings=SMALL)
    assert decompress_bytes(result.blob, tiny_model, tokenizer) == data
    assert result.escaped == escaped
    assert result.blob[4] == 2  # format version 2: with an escape table
    assert len(unpack(result.blob)[0].escapes) == result.spans


def test_ordinary_text_keeps_format_version_1_and_its_size(tiny_model, tokenizer):
    result = compress_bytes(TEXTS['prose'].encode(), tiny_model, tokenizer, settings=SMALL)
    assert result.escaped == 0 and result.blob[4] == 1
    assert result.payload_bytes == len(unpack(result.blob)[1])  # no table, no trailer


def random_inputs(count, seed):
    """Strings of control characters (C0, DEL, C1), astral code points, mixed scripts (Latin,
    Greek, Cyrillic, Hebrew, Arabic, Indic, Thai, kana, CJK, emoji, the rest of the BMP:
    private use, U+FEFF, noncharacters), bytes that are not UTF-8 (lone surrogates encoded as
    UTF-8 would encode them, stray bytes) and random binary."""
    rng = np.random.default_rng(seed)
    pools = [
        range(0, 0x20),
        range(0x20, 0x7F),
        range(0x7F, 0xA0),
        range(0x80, 0x800),
        range(0x900, 0xE80),
        range(0x3040, 0x30FF),
        range(0x4E00, 0x4E80),
        range(0xD800, 0xE000),
        range(0xE000, 0x10000),
        range(0x10000, 0x10FFFF),
        range(0x40000, 0xC0000),
        range(0x1F300, 0x1F700),
    ]
    inputs = []
    for i in range(count):
        if i % 5 == 4:
            inputs.append(rng.bytes(int(rng.integers(0, 40))))
            continue
        parts = []
        for _ in range(int(rng.integers(0, 12))):
            pool = pools[int(rng.integers(len(pools)))]
            char = chr(int(rng.integers(pool.start, pool.stop)))
            parts.append(char.encode('utf-8', 'surrogatepass'))
            if rng.random() < 0.05:
                parts.append(bytes([int(rng.integers(0x80, 0x100))]))
        inputs.append(b''.join(parts))
    return inputs


def test_thousands_of_random_inputs_split_and_join_exactly(tokenizer):
    """The escape's bookkeeping on 3,000 random inputs, without the model: the text part is
    reproduced by the tokenizer, and text plus escaped spans give the input back."""
    from opencompass_llmcompression.zip.compressor import _encode, join, split

    for data in random_inputs(3000, seed=0):
        parts = split(data, tokenizer)
        assert join(parts.text, parts.escapes) == data
        assert _encode(parts.text, tokenizer)[3] == parts.text


def computed_once(function):
    """``function`` with its result kept for each tuple of argument objects (by identity)."""
    results = {}

    def once(*args):
        key = tuple(map(id, args))
        if key not in results:
            results[key] = (args, function(*args))  # the arguments kept alive with their ids
        return results[key][1]

    return once


@pytest.fixture(scope='module')
def fuzz_model(tmp_path_factory):
    """The tiny model smaller still (one layer, width 16), so that thousands of inputs go
    through the coder in a minute: the time is in the forward passes and the distributions
    over the 49,152 tokens, not in what the inputs are."""
    from transformers import AutoModelForCausalLM

    folder = make_tiny_model(
        str(tmp_path_factory.mktemp('fuzz-llama')), seed=5, context=64, hidden=16, layers=1
    )
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()


FUZZ_WINDOWS = [SMALL, MeasurementSettings(1, 1), MeasurementSettings(4, 4), MeasurementSettings(7, 3)]


@pytest.mark.slow  # over 10 s on 2 cores
def test_a_thousand_random_inputs_round_trip_through_the_coder(fuzz_model, tokenizer, monkeypatch):
    """1,000 random inputs, each its own file, compressed and decompressed end to end (split,
    coder, container, SHA-256, join), with windows from one token to 16 and some in 3
    segments: each of the 28 combinations of windows and segments about 35 times. The file's
    fingerprints of the model, the tokenizer and the software are computed once instead of
    twice per file (the same values: the same objects, the same process), or they would take
    about four times as long as the coding (hashing 6 MB of weights, serialising the
    tokenizer, reading package metadata); other tests check them."""
    from opencompass_llmcompression.zip import compressor

    for name in ('model_fingerprints', 'tokenizer_fingerprint', 'software_fingerprints'):
        monkeypatch.setattr(compressor, name, computed_once(getattr(compressor, name)))
    versions, escaped, tokens = {1: 0, 2: 0}, 0, 0
    for i, data in enumerate(random_inputs(1000, seed=1)):
        result = compress_bytes(
            data, fuzz_model, tokenizer, FUZZ_WINDOWS[i % 4], segments=3 if i % 7 == 6 else 1
        )
        assert decompress_bytes(result.blob, fuzz_model, tokenizer) == data, (i, data)
        versions[result.blob[4]] += 1
        escaped += result.escaped
        tokens += len(result.bits)
    # the corpus is what it claims: files of both formats, thousands of bytes escaped and of
    # tokens coded
    assert min(versions.values()) > 150 and escaped > 3500 and tokens > 6500, (versions, escaped, tokens)


@pytest.mark.slow
def test_dozens_of_random_inputs_round_trip_through_smollm2(smollm2, monkeypatch):
    """30 random inputs (500 bytes, 270 tokens, both formats), each its own file, through
    SmolLM2 itself: its distributions are sharp where the tiny model's are not. The time is
    SmolLM2's forward pass for each token (the thousand inputs above test the bookkeeping);
    fingerprints computed once per model, as above (hashing SmolLM2's weights takes about a
    second)."""
    from opencompass_llmcompression.zip import compressor

    for name in ('model_fingerprints', 'tokenizer_fingerprint', 'software_fingerprints'):
        monkeypatch.setattr(compressor, name, computed_once(getattr(compressor, name)))
    model, tokenizer = smollm2
    escaped = 0
    versions = {1: 0, 2: 0}
    for i, data in enumerate(random_inputs(30, seed=7)):
        result = compress_bytes(data, model, tokenizer, MeasurementSettings(48, 16))
        assert decompress_bytes(result.blob, model, tokenizer) == data, (i, data)
        escaped += result.escaped
        versions[result.blob[4]] += 1
    assert escaped > 150 and min(versions.values()) > 5, (escaped, versions)  # both formats


@pytest.fixture(scope='module')
def normalising_tokenizer(tokenizer):
    from tokenizers import normalizers

    changed = copy.deepcopy(tokenizer)
    changed.backend_tokenizer.normalizer = normalizers.NFKC()
    return changed


def test_text_the_tokenizer_changes_takes_the_escape(normalising_tokenizer, tiny_model):
    data = 'ok.\r\nﬁne ①'.encode()  # NFKC makes them 'fine' and '1'
    result = round_trip(data, tiny_model, normalising_tokenizer, settings=SMALL)
    assert result.escaped == len('ﬁ①'.encode()) and result.spans == 2


@pytest.fixture(scope='module')
def blob(tiny_model, tokenizer):
    return compress_bytes(TEXTS['prose'].encode(), tiny_model, tokenizer, settings=SMALL).blob


def test_another_model_or_tokenizer_is_refused(blob, tmp_path, tiny_model, tokenizer, normalising_tokenizer):
    from transformers import AutoModelForCausalLM

    other = AutoModelForCausalLM.from_pretrained(make_tiny_model(str(tmp_path), seed=1)).eval()
    with pytest.raises(ZipError, match='another model.*same software and hardware class'):
        decompress_bytes(blob, other, tokenizer)
    with pytest.raises(ZipError, match='compressed with the model in float32'):
        decompress_bytes(blob, copy.deepcopy(tiny_model).to(torch.bfloat16), tokenizer)
    with pytest.raises(ZipError, match='another tokenizer'):
        decompress_bytes(blob, tiny_model, normalising_tokenizer)
    with pytest.raises(ZipError, match='training mode'):
        decompress_bytes(blob, copy.deepcopy(tiny_model).train(), tokenizer)


@pytest.mark.parametrize(
    'damage, message',
    [
        (
            lambda b: b[:-4],
            'corrupted file: its CRC-32 does not match its contents, and its '
            'header announces .* bytes where the file has .*truncated',
        ),
        (lambda b: b[:40], 'truncated file: 40 bytes'),
        (lambda b: b + b'\0', 'CRC-32 does not match.*had bytes added'),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), 'corrupted file'),
        (lambda b: b[:10] + bytes([b[10] ^ 1]) + b[11:], 'corrupted file'),  # block size
        (
            lambda b: b[:4] + b'\x09' + b[5:],
            'corrupted file, or one of another format: its CRC-32 '
            'does not match its contents and its version byte says 9',
        ),
        (lambda b: b[:4] + b'\x00' + b[5:], 'version byte says 0'),
        (
            lambda b: b[:107] + bytes([b[107] ^ 4]) + b[108:],
            'corrupted file: its CRC-32 does not match.*announces',
        ),  # the length field
        (lambda b: b'PK\x03\x04' + b[4:], 'not an llmcompression-zip file'),
        (lambda b: b'', 'not an llmcompression-zip file'),
    ],
)
def test_a_damaged_file_is_refused_before_decoding(blob, damage, message):
    with pytest.raises(ZipError, match=message):
        decompress_bytes(damage(blob), None, None)  # no model: refused before any work


def craft(blob, **changes):
    """The file with header fields changed (raw values, any in range of their type) and its
    CRC made to match again: what only a crafted file has."""
    names = (
        'magic',
        'version',
        'dtype',
        'threads',
        'block_size',
        'stride',
        'segments',
        'tokens',
        'prefix',
        'suffix',
        'size',
        'model',
        'tokenizer',
        'software',
        'sha256',
        'payload_size',
    )
    fields = dict(zip(names, container._LAYOUT.unpack_from(blob)))
    fields.update(changes)
    head = container._LAYOUT.pack(*(fields[name] for name in names))
    payload = blob[HEADER_SIZE:]
    return head + container._CRC.pack(zlib.crc32(payload, zlib.crc32(head))) + payload


CRAFTED = {
    'threads 0': (dict(threads=0), r'threads = 0, outside its legal range \(1..255\)'),
    'block size 0': (dict(block_size=0, stride=0), r'block size = 0, outside'),
    'stride 0': (dict(stride=0), r'stride = 0, outside its legal range \(1..block size 16\)'),
    'stride above the block': (dict(stride=17), r'stride = 17, outside'),
    'segments 0': (dict(segments=0), r'segments = 0, outside'),
    'tokens 2**40': (
        dict(tokens=2**40),
        r'tokens = 1099511627776, outside its legal range '
        r'\(at most the \d+ bytes of the text',
    ),
    'fewer tokens than specials': (
        dict(prefix=3, tokens=2),
        r'tokens = 2, outside its legal '
        r'range \(at least the 3 special',
    ),
    'size without tokens': (dict(tokens=0), r'size = \d+, outside its legal range \(0, the escaped'),
    'dtype 9': (dict(dtype=9), r'dtype code 9 \(legal: 0..3\)'),
    'version 3': (dict(version=3), r'format version 3; this program reads versions 1 and 2'),
    'version 2 without a table': (dict(version=2), r'invalid escape table'),
    'payload length': (dict(payload_size=4), r'announces a payload of 4 bytes, the file has'),
}


@pytest.mark.parametrize('case', list(CRAFTED))
def test_a_crafted_header_is_refused_before_decoding(case, blob):
    changes, message = CRAFTED[case]
    with pytest.raises(ZipError, match=message):
        decompress_bytes(craft(blob, **changes), None, None)  # no model: before any work


@pytest.mark.parametrize(
    'changes, message',
    [
        (dict(block_size=4096), "windows of 4096 tokens are longer than the model's context of 2048 tokens"),
        (
            dict(tokens=2**40, size=2**41),
            r'tokens = 1099511627776, more than a payload of '
            r'\d+ bytes can code with a vocabulary of 49152',
        ),
        (
            dict(prefix=1, tokens=40),
            '1 special tokens before the text and 0 after it, where this tokenizer adds 0 and 0',
        ),
    ],
)
def test_a_header_that_does_not_fit_the_model_is_refused_before_decoding(
    changes, message, blob, tiny_model, tokenizer
):
    with pytest.raises(ZipError, match=message):
        decompress_bytes(craft(blob, **changes), tiny_model, tokenizer)


def test_a_flipped_bit_anywhere_is_refused(blob):
    """Every bit of the header and of the payload's first and last words: the magic says it
    is not ours, anything else fails the CRC, checked before any other field."""
    positions = list(range(HEADER_SIZE + 4)) + list(range(len(blob) - 4, len(blob)))
    for at in positions:
        for bit in range(8):
            damaged = blob[:at] + bytes([blob[at] ^ (1 << bit)]) + blob[at + 1 :]
            with pytest.raises(
                ZipError, match='not an llmcompression-zip file' if at < 4 else 'corrupted file'
            ):
                unpack(damaged)


def test_decoded_bytes_are_checked_against_the_original_checksum(blob, tiny_model, tokenizer):
    header, payload = unpack(blob)
    forged = pack(replace(header, sha256=hashlib.sha256(b'other').digest()), payload)
    with pytest.raises(ZipError, match='do not match the original.*same software and hardware'):
        decompress_bytes(forged, tiny_model, tokenizer)


def test_the_coder_threads_are_kept_in_the_header(tiny_model, tokenizer):
    before = torch.get_num_threads()
    result = round_trip(TEXTS['crlf'], tiny_model, tokenizer, threads=2, settings=SMALL)
    assert unpack(result.blob)[0].threads == 2 and torch.get_num_threads() == before


def test_command_line_round_trip_and_report(tiny_model_dir, tmp_path, capsys):
    source, packed, back = tmp_path / 'in.txt', tmp_path / 'in.lmz', tmp_path / 'out.txt'
    source.write_bytes((TEXTS['prose'] + TEXTS['crlf']).encode())
    assert (
        cli.main(
            [
                'compress',
                '--model',
                tiny_model_dir,
                '--block-size',
                '16',
                '--stride',
                '5',
                '--quiet',
                str(source),
                str(packed),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    for label in (
        'characters',
        'input bytes',
        'output bytes',
        'file bits/char',
        'evaluator BPC',
        'gzip -9',
        'bzip2 -9',
        'xz -9e',
        'zstd -22',
        'chars/s',
    ):
        assert label in printed
    assert f'output bytes      {packed.stat().st_size} ' in printed
    assert cli.main(['decompress', '--model', tiny_model_dir, '--quiet', str(packed), str(back)]) == 0
    assert back.read_bytes() == source.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ['in.lmz', 'in.txt', 'out.txt']


def test_command_line_errors_leave_no_output(tiny_model_dir, tmp_path, capsys):
    packed = tmp_path / 'ok.lmz'
    (tmp_path / 'ok.txt').write_text('fine text')
    assert (
        cli.main(['compress', '--model', tiny_model_dir, '--quiet', str(tmp_path / 'ok.txt'), str(packed)])
        == 0
    )
    header, payload = unpack(packed.read_bytes())
    packed.write_bytes(pack(replace(header, sha256=b'\0' * 32), payload))
    assert (
        cli.main(['decompress', '--model', tiny_model_dir, '--quiet', str(packed), str(tmp_path / 'out.txt')])
        == 1
    )
    assert 'do not match' in capsys.readouterr().err
    packed.write_bytes(packed.read_bytes()[:-1])
    assert cli.main(['decompress', '--model', tiny_model_dir, str(packed), str(tmp_path / 'out.txt')]) == 1
    assert sorted(os.listdir(tmp_path)) == ['ok.lmz', 'ok.txt']


def test_python_dash_m_and_another_process_decodes_it(tiny_model_dir, tmp_path):
    """Compressed by ``python -m`` in its own process, decompressed in this one: the
    probabilities are bit-identical across processes (here with segments in a batch)."""
    source = tmp_path / 'in.txt'
    source.write_text(TEXTS['python'] + TEXTS['cjk'], encoding='utf-8')
    run = subprocess.run(
        [
            sys.executable,
            '-m',
            'opencompass_llmcompression.zip',
            'compress',
            '--model',
            tiny_model_dir,
            '--block-size',
            '16',
            '--stride',
            '5',
            '--segments',
            '3',
            '--quiet',
            str(source),
            str(tmp_path / 'in.lmz'),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert 'tokens            100' in run.stdout
    assert (
        cli.main(
            [
                'decompress',
                '--model',
                tiny_model_dir,
                '--quiet',
                str(tmp_path / 'in.lmz'),
                str(tmp_path / 'out.txt'),
            ]
        )
        == 0
    )
    assert (tmp_path / 'out.txt').read_bytes() == source.read_bytes()


def test_demo_line(tiny_model_dir, tmp_path):
    line = demo.compress_demo_document(tiny_model_dir, str(tmp_path), name='Tiny')
    assert re.fullmatch(
        r'Tiny: \d+ bytes -> \d+ bytes \(\d+\.\d+ bits/char\), '
        r'xz -9e: \d+ bytes',
        line,
    ), line
    assert np.isfinite(float(re.search(r'\((\S+) bits', line).group(1)))


def test_crafted_escape_tables_are_refused_cleanly(tiny_model, tokenizer):
    """Random changes to a version 2 file's table, its CRC made to match: a ZipError or, when
    the table still parses, a file that decodes to something the SHA-256 refuses."""
    blob = compress_bytes(b'a\x04b\x1dc' * 5, tiny_model, tokenizer, settings=SMALL).blob
    header, payload = unpack(blob)
    table_at = HEADER_SIZE + len(payload)
    rng = np.random.default_rng(3)
    for _ in range(300):
        damaged = bytearray(blob)
        for _ in range(int(rng.integers(1, 4))):
            damaged[int(rng.integers(table_at, len(blob)))] = int(rng.integers(256))
        head = bytes(damaged[: container._LAYOUT.size])
        rest = bytes(damaged[HEADER_SIZE:])
        damaged = head + container._CRC.pack(zlib.crc32(rest, zlib.crc32(head))) + rest
        if damaged == blob:
            continue
        with pytest.raises(ZipError):
            unpack(damaged)
            decompress_bytes(damaged, tiny_model, tokenizer)


def test_a_changed_configuration_is_another_model(blob, tiny_model, tokenizer):
    """A configuration value that changes the numbers (here the norms' epsilon) is refused
    before decoding; a file written when only the weights counted still decodes."""
    from opencompass_llmcompression.zip.compressor import model_fingerprints

    changed = copy.deepcopy(tiny_model)
    changed.config.rms_norm_eps = 1e-5 if changed.config.rms_norm_eps != 1e-5 else 1e-6
    with pytest.raises(ZipError, match='another model, or with its configuration changed'):
        decompress_bytes(blob, changed, tokenizer)
    header, payload = unpack(blob)
    older = pack(replace(header, model=model_fingerprints(tiny_model)[1]), payload)
    assert decompress_bytes(older, tiny_model, tokenizer) == TEXTS['prose'].encode()


def test_a_file_from_other_software_or_another_cpu_is_refused_unless_forced(blob, tiny_model, tokenizer):
    from opencompass_llmcompression.zip.compressor import software_fingerprints

    header, payload = unpack(blob)
    assert header.software == software_fingerprints()[0]
    elsewhere = pack(replace(header, software=b'\xff' * 8), payload)
    with pytest.raises(ZipError, match='other software or on another kind of CPU.*force it'):
        decompress_bytes(elsewhere, None, None)  # no model: before any work
    data = TEXTS['prose'].encode()
    assert decompress_bytes(elsewhere, tiny_model, tokenizer, force=True) == data
    older = pack(replace(header, software=software_fingerprints()[1]), payload)
    assert decompress_bytes(older, tiny_model, tokenizer) == data  # before the CPU counted
