"""The corpus loader: formats, layout of the hub download, and clear errors."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_jsonl

from opencompass_llmcompression import CompressionCorpusDataset, CorpusError, load_corpus
from opencompass_llmcompression.core.corpus_files import CorpusFile, corpus_name, locate_corpus, manifest_path


def test_jsonl_drops_empty_documents_and_keeps_order(tmp_path):
    write_jsonl(str(tmp_path / 'cc.jsonl'), ['first', '', 'third {idx}'])
    docs = load_corpus(str(tmp_path), 'cc')
    assert [d['content'] for d in docs] == ['first', 'third {idx}']
    assert docs[0]['subset'] == 'test' and json.loads(docs[0]['meta']) == {'i': 0}


def test_json_array_parquet_and_hub_layout(tmp_path):
    (tmp_path / 'a.json').write_text(json.dumps([{'content': 'x'}, {'content': 'y'}]))
    pq.write_table(
        pa.table({'content': ['p', 'q', ''], 'subset': ['s'] * 3, 'meta': ['{}'] * 3}),
        str(tmp_path / 'b.parquet'),
    )
    write_jsonl(str(tmp_path / 'data' / 'python.jsonl'), ['def f(): pass'])  # hub download
    assert [d['content'] for d in load_corpus(str(tmp_path), 'a')] == ['x', 'y']
    assert [d['content'] for d in load_corpus(str(tmp_path), 'b')] == ['p', 'q']
    assert load_corpus(str(tmp_path), 'python')[0]['content'] == 'def f(): pass'


def test_samples_and_relative_paths_under_compass_data_cache(tmp_path, monkeypatch):
    write_jsonl(str(tmp_path / 'data' / 'llm-compression' / 'cc.jsonl'), ['a', '', 'b', 'c'])
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    assert [d['content'] for d in load_corpus('data/llm-compression', 'cc', samples=2)] == ['a', 'b']


def test_dataset_rows_carry_their_document_index(tmp_path):
    write_jsonl(str(tmp_path / 'cc.jsonl'), ['a', 'b', 'c', 'd'])
    ds = CompressionCorpusDataset(
        path=str(tmp_path),
        name='cc',
        abbr='x',
        reader_cfg=dict(input_columns=['content'], output_column=None, test_range='[1:3]'),
    )
    assert ds.test['document_index'] == [1, 2] and ds.test['content'] == ['b', 'c']
    assert ds.train['document_index'] == [0, 1, 2, 3]


def test_missing_folder_says_where_it_looked_and_how_to_get_data(tmp_path):
    with pytest.raises(CorpusError) as e:
        load_corpus(str(tmp_path / 'nowhere'), 'cc')
    assert 'nowhere/cc.jsonl' in str(e.value) and 'hf download' in str(e.value)


@pytest.mark.slow  # over 10 s on 2 cores
def test_hub_id_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CorpusError, match='could not be loaded.*hf download'):
        load_corpus('someone/some-corpus', 'cc')


def test_bad_lines_and_fields(tmp_path):
    (tmp_path / 'cc.jsonl').write_text('{"content": "ok"}\nnot json\n')
    with pytest.raises(CorpusError, match='cc.jsonl, line 2, column 1: not JSON'):
        load_corpus(str(tmp_path), 'cc')
    (tmp_path / 'py.jsonl').write_text('{"text": "no content field"}\n')
    with pytest.raises(CorpusError, match='py.jsonl, line 1: no "content" field'):
        load_corpus(str(tmp_path), 'py')


def test_empty_corpus(tmp_path):
    write_jsonl(str(tmp_path / 'cc.jsonl'), ['', ''])
    with pytest.raises(CorpusError, match='no non-empty document'):
        load_corpus(str(tmp_path), 'cc')


@pytest.mark.parametrize('name', ['../cc', 'a/b', '..', ''])
def test_names_cannot_leave_the_data_folder(tmp_path, name):
    with pytest.raises(CorpusError, match='plain file name'):
        load_corpus(str(tmp_path), name)


def test_nothing_is_written_into_the_data_folder(tmp_path):
    write_jsonl(str(tmp_path / 'cc.jsonl'), ['a', 'b'])
    before = sorted(os.listdir(tmp_path))
    CompressionCorpusDataset(
        path=str(tmp_path), name='cc', reader_cfg=dict(input_columns=['content'], output_column=None)
    )
    assert sorted(os.listdir(tmp_path)) == before


def test_the_files_opencompass_readme_downloads_are_read(tmp_path, caplog):
    # its script: load_dataset('hkust-nlp/llm-compression', ...)['test'].to_json(
    # f'data/llm-compression/{key}.jsonl') for key in arxiv_math, commoncraw, python
    from datasets import Dataset

    folder = tmp_path / 'data' / 'llm-compression'
    for key, texts in (
        ('commoncraw', ['web page', '', 'another page']),
        ('python', ['def f(): pass']),
        ('arxiv_math', ['$x^2$']),
    ):
        Dataset.from_dict(
            {'content': texts, 'subset': [key] * len(texts), 'meta': ['{}'] * len(texts)}
        ).to_json(str(folder / f'{key}.jsonl'))
    with caplog.at_level('WARNING', logger='opencompass_llmcompression'):
        docs = load_corpus(str(folder), 'cc')
    assert [d['content'] for d in docs] == ['web page', 'another page']
    (record,) = caplog.records
    assert record.getMessage() == (
        f'corpus "cc": reading {folder}/commoncraw.jsonl, the file OpenCompass\'s built-in '
        'llm_compression config names (there is no cc.jsonl)'
    )
    assert [d['content'] for d in load_corpus(str(folder), 'python')] == ['def f(): pass']
    caplog.clear()
    write_jsonl(str(folder / 'cc.jsonl'), ['ours'])  # where both lie, cc.jsonl is the corpus
    assert [d['content'] for d in load_corpus(str(folder), 'cc')] == ['ours']
    assert not caplog.records


def test_opencompass_names_in_errors(tmp_path):
    with pytest.raises(CorpusError) as e:
        load_corpus(str(tmp_path), 'cc')
    assert f'{tmp_path}/commoncraw.jsonl' in str(e.value)  # looked for too
    write_jsonl(str(tmp_path / 'cc.jsonl'), ['ours'])
    with pytest.raises(CorpusError) as e:
        load_corpus(str(tmp_path), 'commoncraw')
    assert (
        '"commoncraw" is the name OpenCompass\'s built-in config gives the paper\'s "cc" '
        'corpus; this plugin calls it "cc", and reads commoncraw.jsonl for it.'
    ) in str(e.value)


def test_a_missing_corpus_names_the_config_fields_in_opencompass_only(tmp_path):
    with pytest.raises(CorpusError) as core:
        load_corpus(str(tmp_path), 'cc')
    assert 'path=' not in str(core.value) and '--data_dir' not in str(core.value)
    with pytest.raises(CorpusError) as dataset:
        CompressionCorpusDataset(
            path=str(tmp_path), name='cc', reader_cfg=dict(input_columns=['content'], output_column=None)
        )
    assert str(dataset.value) == (
        f'{core.value} The dataset config names the folder, '
        'path=FOLDER (a relative one under $COMPASS_DATA_CACHE), and '
        'the corpus, name=NAME.'
    )


@pytest.mark.parametrize(
    'filename,name',
    [
        ('cc.jsonl', 'cc'),
        ('cc.jsonl.gz', 'cc'),
        ('data/cc.parquet', 'cc'),
        ('cc.v2.json', 'cc.v2'),
        ('notes.txt', 'notes'),
    ],
)
def test_a_corpus_name_and_manifest_from_the_file_name(filename, name):
    assert corpus_name(filename) == name
    assert manifest_path(filename) == os.path.join(os.path.dirname(filename), f'{name}.manifest.json')


def test_the_locator_gives_the_file_and_its_manifest(tmp_path):
    assert locate_corpus(str(tmp_path), 'cc') is None
    assert locate_corpus(str(tmp_path / 'nowhere'), 'cc') is None
    folder = tmp_path / 'data'
    write_jsonl(str(folder / 'commoncraw.jsonl'), ['a'])  # OpenCompass's name for cc
    assert locate_corpus(str(tmp_path), 'cc') == CorpusFile(str(folder / 'commoncraw.jsonl'))
    (folder / 'commoncraw.manifest.json').write_text('{"file": "commoncraw.jsonl"}')
    assert locate_corpus(str(tmp_path), 'cc', check=False).manifest == str(
        folder / 'commoncraw.manifest.json'
    )
    with pytest.raises(CorpusError, match='does not match its manifest'):
        locate_corpus(str(tmp_path), 'cc')
