"""The paper's command line: help, a JSONL path as the task, and clear errors."""

import json
import subprocess
import sys

import pytest

from conftest import write_jsonl
from opencompass_llmcompression.exit_codes import ERROR
from opencompass_llmcompression.paper_cli import main


def test_help_explains_every_flag():
    out = subprocess.run([sys.executable, '-m', 'opencompass_llmcompression', '--help'],
                         capture_output=True, text=True)
    assert out.returncode == 0
    for flag in ('--model_name', '--task_name', '--block_size', '--stride', '--batch_size',
                 '--file_num', '--flash', '--gpu', '--cache_dir', '--data_dir',
                 '--reference_compat'):
        assert flag in out.stdout


def test_a_jsonl_path_and_file_num(tiny_model_dir, tmp_path, capsys):
    path = write_jsonl(str(tmp_path / 'mine.jsonl'), ['first document ' * 20, 'second ' * 30,
                                                      'third ' * 40])
    out = str(tmp_path / 'r.json')
    assert main(['--model_name', tiny_model_dir, '--task_name', path, '--file_num', '2',
                 '--block_size', '32', '--stride', '8', '--output', out]) == 0
    result = json.load(open(out))
    assert result['documents'] == 2 and result['chars'] == len('first document ' * 20) + 7 * 30
    assert result['measurement'] == dict(block_size=32, stride=8, reference_compat=False)
    assert 'BPC:' in capsys.readouterr().out


def test_missing_corpus_and_wrong_flags(tiny_model_dir, tmp_path, capsys):
    assert main(['--model_name', tiny_model_dir, '--task_name', 'cc',
                 '--data_dir', str(tmp_path / 'nowhere')]) == ERROR
    assert 'llmcompression-eval: error: corpus "cc" not found' in capsys.readouterr().err
    assert main(['--model_name', tiny_model_dir, '--task_name', str(tmp_path / 'x.jsonl')]) \
        == ERROR
    assert 'does not exist' in capsys.readouterr().err
    assert main(['--model_name', tiny_model_dir, '--task_name', 'cc', '--block_size', '16',
                 '--stride', '32']) == ERROR
    assert 'stride (32) is larger than block_size (16)' in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # a usage error is an error too
        main(['--model_name', tiny_model_dir, '--task_name', 'cc', '--no_such_flag', '3'])
    assert e.value.code == ERROR
