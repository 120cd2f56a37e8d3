"""Corpus files as tools really write them: each case read the same way, or refused with the
same clear error, by the OpenCompass dataset's loader and by the paper's command line.
docs/robustness.md lists these cases."""

import argparse
import bz2
import gzip
import json
import lzma
import os
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from opencompass_llmcompression import CorpusError, load_corpus
from opencompass_llmcompression.paper_cli import load_documents

TEXTS = ['Première ligne, café.', 'second\tdocument\n', '第三']
LINES = ''.join(json.dumps({'content': t, 'meta': {'i': i}}) + '\n' for i, t in enumerate(TEXTS))


def write(tmp_path, data, name='cc.jsonl'):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode('utf-8'))
    return str(path)


def read_both(path):
    """The documents both readers give (they must agree)."""
    folder, filename = os.path.split(path)
    ours = load_corpus(folder, filename.split('.')[0])
    paper = load_documents(
        argparse.Namespace(task_name=path, file_num=None, data_dir=folder, reference_compat=False)
    )
    assert ours == paper
    return [d['content'] for d in ours]


def error_both(path):
    """The message both readers give (they must give the same one, naming the file)."""
    folder, filename = os.path.split(path)
    with pytest.raises(CorpusError) as ours:
        load_corpus(folder, filename.split('.')[0])
    with pytest.raises(CorpusError) as paper:
        load_documents(
            argparse.Namespace(task_name=path, file_num=None, data_dir=folder, reference_compat=False)
        )
    assert str(ours.value) == str(paper.value) and path in str(ours.value)
    return str(ours.value)


# ---- valid, only unusual: read as meant ------------------------------------------------


@pytest.mark.parametrize('encoding', ['utf-8-sig', 'utf-16', 'utf-16-be', 'utf-32'])
def test_byte_order_marks_are_read(tmp_path, encoding):
    data = LINES.encode(encoding)
    if encoding == 'utf-16-be':
        data = b'\xfe\xff' + data  # Python writes no BOM for an explicit byte order
    assert read_both(write(tmp_path, data)) == TEXTS


def test_windows_line_endings_blank_lines_and_escapes(tmp_path):
    text = LINES.replace('\n', '\r\n').replace('\r\n', '\r\n\r\n   \r\n', 1)
    assert read_both(write(tmp_path, text)) == TEXTS  # \r\n inside content stays as escaped
    raw = ''.join(json.dumps({'content': t}, ensure_ascii=False) + '\n' for t in TEXTS)
    assert read_both(write(tmp_path, raw, 'py.jsonl')) == TEXTS


def test_a_json_array_in_a_jsonl_file_and_json_lines_in_a_json_file(tmp_path):
    array = json.dumps([{'content': t} for t in TEXTS], indent=2)
    assert read_both(write(tmp_path, array, 'cc.jsonl')) == TEXTS
    assert read_both(write(tmp_path, LINES, 'py.json')) == TEXTS


def test_pretty_printed_objects_one_or_several(tmp_path):
    assert read_both(write(tmp_path, json.dumps({'content': 'one'}, indent=2))) == ['one']
    stream = '\n'.join(json.dumps({'content': t}, indent=2) for t in TEXTS)  # jq without -c
    assert read_both(write(tmp_path, stream, 'py.json')) == TEXTS
    message = error_both(write(tmp_path, stream + '\n{"text": 1}', 'ar.json'))
    assert 'the value starting on line 10: no "content" field' in message
    assert 'cut off' in error_both(write(tmp_path, stream[:-5], 'x.json'))


def test_records_under_one_key_and_column_layouts(tmp_path):
    wrapped = json.dumps({'version': 2, 'data': [{'content': t} for t in TEXTS]})
    assert read_both(write(tmp_path, wrapped, 'a.json')) == TEXTS
    columns = json.dumps({'content': TEXTS, 'subset': ['s'] * 3})
    assert read_both(write(tmp_path, columns, 'b.json')) == TEXTS


@pytest.mark.parametrize('orient', ['records', 'columns', 'index', 'table', 'split', 'values'])
def test_every_pandas_layout(tmp_path, orient):
    path = str(tmp_path / 'cc.json')
    pd.DataFrame({'content': TEXTS, 'subset': 'x'}).to_json(path, orient=orient)
    if orient in ('split', 'values'):  # rows as bare lists: the field names are not on them
        message = error_both(path)
        assert 'no "content" field' in message or 'a list, not a JSON object' in message
    else:
        assert read_both(path) == TEXTS
    pd.DataFrame({'content': TEXTS}).to_json(path, orient='records', lines=True)
    assert read_both(path) == TEXTS


@pytest.mark.parametrize('lines', [True, False])
def test_datasets_to_json_either_way(tmp_path, lines):
    from datasets import Dataset

    path = str(tmp_path / 'cc.jsonl')
    Dataset.from_list([{'content': t, 'subset': 'x'} for t in TEXTS]).to_json(path, lines=lines)
    assert read_both(path) == TEXTS


@pytest.mark.parametrize(
    'compress',
    [
        lambda b: gzip.compress(b),
        bz2.compress,
        lzma.compress,
        lambda b: zstandard.ZstdCompressor().compress(b),
    ],
    ids=['gzip', 'bzip2', 'xz', 'zstd'],
)
def test_compressed_files_are_read(tmp_path, compress):
    assert read_both(write(tmp_path, compress(LINES.encode()))) == TEXTS


def test_a_jsonl_gz_file_is_found_by_name(tmp_path):
    write(tmp_path, gzip.compress(LINES.encode()), 'cc.jsonl.gz')
    assert [d['content'] for d in load_corpus(str(tmp_path), 'cc')] == TEXTS
    assert read_both(str(tmp_path / 'cc.jsonl.gz')) == TEXTS


def test_nan_and_infinity_outside_content_are_read(tmp_path):
    text = '{"content": "a", "meta": {"score": NaN}}\n{"content": "b", "meta": Infinity}\n'
    assert read_both(write(tmp_path, text)) == ['a', 'b']


# ---- unreadable: refused, naming the file, where, the problem and the fix ----------------


def test_latin1_bytes_name_the_line_and_byte(tmp_path):
    data = LINES.encode('utf-8') + '{"content": "caf\xe9"}\n'.encode('latin-1')
    message = error_both(write(tmp_path, data))
    assert 'line 4, byte 17 of the line' in message and "b'\\xe9" in message
    assert 'not UTF-8' in message and 'iconv' in message


def test_utf16_without_a_byte_order_mark(tmp_path):
    message = error_both(write(tmp_path, LINES.encode('utf-16-le')))
    assert 'UTF-16 or UTF-32 without a byte-order mark' in message and 'iconv' in message


def test_a_cut_off_last_line(tmp_path):
    message = error_both(write(tmp_path, LINES + '{"content": "half a docu'))
    assert 'line 4' in message and 'cut off' in message
    message = error_both(write(tmp_path, LINES + '{"content": "whole", "meta": {"i":'))
    assert 'line 4' in message and 'cut off' in message


def test_a_cut_off_array_and_a_cut_off_archive(tmp_path):
    array = json.dumps([{'content': t} for t in TEXTS], indent=1)
    assert 'cut off' in error_both(write(tmp_path, array[:-20]))
    archive = gzip.compress(LINES.encode() * 50)
    assert 'gzip-compressed but does not decompress' in error_both(
        write(tmp_path, archive[: len(archive) // 2], 'py.jsonl')
    )


def test_a_zip_archive_is_refused(tmp_path):
    path = str(tmp_path / 'cc.jsonl')
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('cc.jsonl', LINES)
    assert 'zip archive' in error_both(path) and 'unzip' in error_both(path)


@pytest.mark.parametrize(
    'data, expected',
    [(b'', 'empty (0 bytes)'), (b'\n  \r\n', 'is empty')],
    ids=['no bytes', 'only blank lines'],
)
def test_empty_files(tmp_path, data, expected):
    assert expected in error_both(write(tmp_path, data))


def test_a_broken_line_in_the_middle(tmp_path):
    lines = LINES.splitlines()
    text = '\n'.join(lines[:1] + ['{"content": "x",}'] + lines[1:]) + '\n'
    message = error_both(write(tmp_path, text))
    assert 'line 2, column 17: not JSON' in message and 'cut off' not in message
    two = LINES + '{"content": "a"}{"content": "b"}\n'
    assert 'line 4: more than one JSON value on one line' in error_both(write(tmp_path, two))


@pytest.mark.parametrize(
    'content, expected',
    [
        ('null', '"content" is null, not a string; use "" for an empty document'),
        ('3', '"content" is a number, not a string; write the text as a JSON string'),
        ('NaN', '"content" is a number'),
        ('true', '"content" is a boolean'),
        ('["a", "b"]', '"content" is a list, not a string; join the pieces'),
        ('{"text": "a"}', '"content" is an object'),
    ],
)
def test_content_of_the_wrong_type_names_the_record(tmp_path, content, expected):
    message = error_both(write(tmp_path, LINES + '{"content": %s}\n' % content))
    assert 'line 4: ' + expected in message


def test_a_missing_content_field_suggests_the_fix(tmp_path):
    message = error_both(write(tmp_path, LINES + '{"text": "a", "id": 3}\n'))
    assert 'line 4: no "content" field (fields: id, text); it has "text": rename' in message
    assert 'llmcompression-corpus --records' in message
    message = error_both(write(tmp_path, '{"id": 1}\n'))
    assert 'line 1: no "content" field (fields: id). Every record' in message


def test_records_that_are_not_objects(tmp_path):
    text = LINES.replace('\n', '\n"just text"\n', 1)
    assert 'line 2: a string, not a JSON object' in error_both(write(tmp_path, text))
    assert 'element 1 of the array: a string, not a JSON object' in error_both(
        write(tmp_path, '["x"]\n', 'b.jsonl')
    )
    assert 'line 2: a list, not a JSON object' in error_both(
        write(tmp_path, '{"content": "a"}\n["x"]\n', 'c.jsonl')
    )
    assert 'single JSON int' in error_both(write(tmp_path, '42', 'd.json'))


def test_an_object_with_no_or_several_record_lists(tmp_path):
    two = json.dumps({'train': [{'content': 'a'}], 'test': [{'content': 'b'}]})
    assert "keys ['train', 'test'] each hold a list of records" in error_both(write(tmp_path, two))
    assert 'line 1: no "content" field (fields: a, b)' in error_both(
        write(tmp_path, '{"a": [], "b": {"c": 1}}', 'py.json')
    )


def test_parquet_without_content_cut_off_or_with_numbers(tmp_path):
    path = str(tmp_path / 'cc.parquet')
    pq.write_table(pa.table({'text': TEXTS}), path)
    assert 'no "content" column (it has text); rename' in error_both(path)
    pq.write_table(pa.table({'content': TEXTS * 100}), path)
    data = open(path, 'rb').read()
    write(tmp_path, data[: len(data) // 2], 'py.parquet')
    assert 'not a readable Parquet file' in error_both(str(tmp_path / 'py.parquet'))
    pq.write_table(pa.table({'content': [1, 2]}), str(tmp_path / 'n.parquet'))
    assert 'row 1: "content" is a number' in error_both(str(tmp_path / 'n.parquet'))


def test_line_separators_inside_a_string_do_not_end_its_line(tmp_path):
    # JSON strings may hold U+2028, U+2029 and U+0085 raw (json.dumps(ensure_ascii=False), as
    # llmcompression-corpus writes); only \n ends a JSON Lines line
    texts = ['first', 'second\u2028line\u2029and\x85more', 'third']
    data = ''.join(json.dumps({'content': t}, ensure_ascii=False) + '\n' for t in texts)
    assert read_both(write(tmp_path, data)) == texts
