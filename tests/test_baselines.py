"""Compressor baselines against the standard library and the compressors' own command lines."""

import bz2
import gzip
import lzma
import shutil
import subprocess

import pytest
import zstandard
from conftest import real_documents, required

from opencompass_llmcompression.report import baselines


@pytest.fixture(scope='module')
def documents():
    return real_documents('python', 8) + ['Unicode: π ≈ 3.14, 数学, emoji 🙂\r\n']


def test_rates_are_the_compressed_sizes_over_characters_and_bytes(documents, tmp_path):
    text = ''.join(documents)
    data = text.encode('utf-8')
    assert len(data) > len(text)  # multi-byte characters: BPC and BPB differ
    expected = {
        'gzip -9': len(gzip.compress(data, 9)),
        'bzip2 -9': len(bz2.compress(data, 9)),
        'xz -9e': len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)),
        'zstd -22': len(zstandard.ZstdCompressor(level=22).compress(data)),
    }
    rates = baselines.baseline_rates(documents, cache_dir=str(tmp_path))
    assert set(rates) == set(expected)
    for name, size in expected.items():
        assert rates[name]['bpc'] == pytest.approx(8 * size / len(text), rel=1e-12)
        assert rates[name]['bpb'] == pytest.approx(8 * size / len(data), rel=1e-12)
    assert all(1 < r['bpc'] < 8 for r in rates.values())  # code compresses, but not to nothing


@pytest.mark.parametrize(
    'name,command',
    [
        ('gzip -9', ['gzip', '-9', '-n', '-c']),
        ('bzip2 -9', ['bzip2', '-9', '-c']),
        ('xz -9e', ['xz', '-9e', '-T1', '-c']),
        ('zstd -22', ['zstd', '--ultra', '-22', '-c']),
    ],
)
def test_sizes_match_the_command_line_tools(documents, name, command):
    if shutil.which(command[0]) is None:
        if required('compressors'):  # scripts/test.sh's main pass: gzip, bzip2, xz, zstd
            pytest.fail(f'{command[0]} is not installed here, and LLMCOMPRESSION_REQUIRE asks for it')
        pytest.skip(f'{command[0]} is not installed here')
    data = ''.join(documents).encode('utf-8')
    ours = baselines.compressed_sizes(data)[name]
    theirs = len(subprocess.run(command, input=data, capture_output=True, check=True).stdout)
    # same algorithm and level; headers and the encoder's own choices differ by a few bytes
    assert abs(ours - theirs) <= 0.01 * theirs + 16, (ours, theirs)


def test_rates_are_cached_and_a_broken_cache_is_recomputed(documents, tmp_path, monkeypatch):
    first = baselines.baseline_rates(documents, cache_dir=str(tmp_path))
    calls = []
    monkeypatch.setattr(
        baselines, 'compressed_sizes', lambda data: calls.append(1) or {n: 1 for n in baselines.COMPRESSORS}
    )
    assert baselines.baseline_rates(documents, cache_dir=str(tmp_path)) == first
    assert calls == []
    (cached,) = (tmp_path / 'baselines').iterdir()
    cached.write_text('{"version": ')
    assert baselines.baseline_rates(documents, cache_dir=str(tmp_path)) != first
    assert calls == [1]


def test_an_empty_corpus_is_refused(tmp_path):
    with pytest.raises(ValueError, match='corpus is empty'):
        baselines.baseline_rates(['', ''], cache_dir=str(tmp_path))
