"""collect/integrity.py: a gzip file is whole exactly when Python's gzip module reads it to its
end, whatever the blocks it arrives in; checked on a recorded wet.paths.gz and WET file and on
copies of them cut short, damaged or with bytes after their end."""

import gzip
import hashlib
import zlib

import pytest
from test_collect_http import WET, data

from opencompass_llmcompression.collect.errors import CollectError
from opencompass_llmcompression.collect.integrity import WholeFile, check_whole

LISTING = data('CC-MAIN-2025-33-wet.paths.gz')


def verdict(body: bytes, block: int, name: str = 'x.gz', md5=None):
    check = WholeFile(name, name.endswith('.gz'), md5)
    for start in range(0, len(body), block):
        check.update(body[start : start + block])
    try:
        return check.finish()
    except CollectError as e:
        return e


def gzip_module_reads(body: bytes) -> bool:
    try:
        gzip.decompress(body)
        return True
    except (EOFError, OSError, zlib.error):
        return False


@pytest.mark.parametrize('block', [1 << 20, 4096, 7])
def test_whole_files_pass_in_any_blocks(block):
    for body in (WET, LISTING):
        assert gzip_module_reads(body)
        assert verdict(body, block) == hashlib.sha256(body).hexdigest()


def test_cut_damaged_or_padded_copies_fail_exactly_when_gzip_fails():
    cuts = [1, 10, 18, 19, 100, len(WET) // 2, len(WET) - 9, len(WET) - 8, len(WET) - 1]
    bodies = [WET[:n] for n in cuts]
    flipped = bytearray(WET)
    flipped[len(WET) // 3] ^= 0x40
    bodies += [bytes(flipped), WET + b'garbage after the end', WET + b'\0' * 16, b'']
    for body in bodies:
        result = verdict(body, 333)
        if gzip_module_reads(body) and body:
            assert result == hashlib.sha256(body).hexdigest()
        else:
            assert isinstance(result, CollectError) and 'not a whole gzip file' in str(result)


def test_the_end_of_a_member_between_blocks():
    members = [gzip.compress(b'record %d\n' % i, mtime=0) for i in range(3)]
    body = b''.join(members)
    cut = len(members[0])  # the first block ends exactly where the first member does
    check = WholeFile('x.gz', True)
    check.update(body[:cut])
    check.update(body[cut:])
    assert check.finish() == hashlib.sha256(body).hexdigest()
    assert isinstance(verdict(body[: cut + 5], 1 << 20), CollectError)  # a member just begun


def test_md5_and_plain_files(tmp_path):
    assert verdict(b'plain text', 4, 'a.txt') == hashlib.sha256(b'plain text').hexdigest()
    assert verdict(WET, 1 << 20, md5=hashlib.md5(WET).hexdigest()) == hashlib.sha256(WET).hexdigest()
    result = verdict(WET, 1 << 20, md5='0' * 32)
    assert isinstance(result, CollectError) and 'MD5' in str(result)
    path = tmp_path / 'f.warc.wet.gz'
    path.write_bytes(WET[:-3])
    with pytest.raises(CollectError, match=r'f\.warc\.wet\.gz: not a whole gzip file: cut short'):
        check_whole(str(path), path.name)
