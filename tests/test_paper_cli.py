"""The paper's command line: help, a JSONL path as the task, and clear errors."""

import json
import math
import os
import subprocess
import sys

import pytest
from brute_force import brute_force_nll
from conftest import make_tiny_model, write_jsonl

from opencompass_llmcompression.exit_codes import ERROR
from opencompass_llmcompression.paper_cli import main


def test_help_explains_every_flag():
    out = subprocess.run(
        [sys.executable, '-m', 'opencompass_llmcompression', '--help'], capture_output=True, text=True
    )
    assert out.returncode == 0
    for flag in (
        '--model_name',
        '--task_name',
        '--block_size',
        '--stride',
        '--batch_size',
        '--file_num',
        '--flash',
        '--gpu',
        '--cache_dir',
        '--data_dir',
        '--reference_compat',
    ):
        assert flag in out.stdout


def test_a_jsonl_path_and_file_num(tiny_model_dir, tmp_path, capsys):
    path = write_jsonl(str(tmp_path / 'mine.jsonl'), ['first document ' * 20, 'second ' * 30, 'third ' * 40])
    out = str(tmp_path / 'r.json')
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                path,
                '--file_num',
                '2',
                '--block_size',
                '32',
                '--stride',
                '8',
                '--output',
                out,
            ]
        )
        == 0
    )
    result = json.load(open(out))
    assert result['documents'] == 2 and result['chars'] == len('first document ' * 20) + 7 * 30
    assert result['measurement'] == dict(block_size=32, stride=8, reference_compat=False)
    assert 'BPC:' in capsys.readouterr().out


def test_missing_corpus_and_wrong_flags(tiny_model_dir, tmp_path, capsys):
    assert (
        main(['--model_name', tiny_model_dir, '--task_name', 'cc', '--data_dir', str(tmp_path / 'nowhere')])
        == ERROR
    )
    err = capsys.readouterr().err
    assert 'llmcompression-eval: error: corpus "cc" not found' in err and 'path=' not in err
    assert err.endswith(
        'or build your own with the same fields. --data_dir names the folder '
        '(default data/llm-compression), --task_name the corpus or a file.\n'
    )
    assert main(['--model_name', tiny_model_dir, '--task_name', str(tmp_path / 'x.jsonl')]) == ERROR
    assert 'does not exist' in capsys.readouterr().err
    assert (
        main(['--model_name', tiny_model_dir, '--task_name', 'cc', '--block_size', '16', '--stride', '32'])
        == ERROR
    )
    assert 'stride (32) is larger than block_size (16)' in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # a usage error is an error too
        main(['--model_name', tiny_model_dir, '--task_name', 'cc', '--no_such_flag', '3'])
    assert e.value.code == ERROR


@pytest.fixture(scope='module')
def blown_up_model_dir(tmp_path_factory):
    """The tiny model with its final norm's weight times 5000: thousands of nats per token."""
    import torch
    from transformers import AutoModelForCausalLM

    folder = make_tiny_model(str(tmp_path_factory.mktemp('blown-up')))
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    with torch.no_grad():
        model.model.norm.weight.mul_(5000)
    model.save_pretrained(folder)
    return folder


def test_a_loss_too_large_for_exp_is_measured_and_written_as_strict_json(
    blown_up_model_dir, tokenizer, tmp_path, capsys
):
    import torch
    from transformers import AutoModelForCausalLM

    path = write_jsonl(str(tmp_path / 'hello.jsonl'), ['Hello there.'])
    out = str(tmp_path / 'r.json')
    assert (
        main(
            [
                '--model_name',
                blown_up_model_dir,
                '--task_name',
                path,
                '--block_size',
                '16',
                '--stride',
                '8',
                '--output',
                out,
            ]
        )
        == 0
    )
    model = AutoModelForCausalLM.from_pretrained(blown_up_model_dir, dtype=torch.float32)
    nll, tokens = brute_force_nll(model.eval(), tokenizer, ['Hello there.'], 16, 8)
    assert tokens.sum() == 2 and nll.sum() / 2 > 1000  # exp() of it overflows a float
    with open(out) as f:
        result = json.loads(f.read(), parse_constant=_refuse)  # strict JSON
    assert result['ppl'] == sys.float_info.max
    assert result['nll'] == pytest.approx(nll.sum(), rel=1e-5)
    assert result['bpc'] == pytest.approx(nll.sum() / (12 * math.log(2)), rel=1e-5)
    captured = capsys.readouterr()
    assert f'BPC: {result["bpc"]}' in captured.out
    assert 'so the perplexity overflows a float and is written as the largest one' in captured.err


@pytest.mark.parametrize(
    'compat,why',
    [
        (
            [],
            'the whole corpus tokenizes to 1 token, and a token is scored only when one precedes '
            'it: nothing can be scored',
        ),
        (['--reference_compat'], 'the corpus has 1 token, fewer than one window of block_size + 1 = 17'),
    ],
)
def test_a_corpus_that_scores_no_token_is_an_error(tiny_model_dir, tmp_path, capsys, compat, why):
    path = write_jsonl(str(tmp_path / 'one.jsonl'), ['a'])
    out = tmp_path / 'r.json'
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                path,
                '--block_size',
                '16',
                '--stride',
                '8',
                '--output',
                str(out),
                *compat,
            ]
        )
        == ERROR
    )
    captured = capsys.readouterr()
    assert f'llmcompression-eval: error: {path}: nothing to score: {why}' in captured.err
    assert 'BPC' not in captured.out and not out.exists()


A, B, C = (
    'The first record, long enough for a window or two of sixteen tokens each.',
    'The third record: the second one is empty, as some of the paper\'s are.',
    'The fourth record, which the paper\'s main.py leaves out with --file_num 3.',
)


@pytest.mark.parametrize('compat,chosen', [(['--reference_compat'], [A, B]), ([], [A, B, C])])
def test_file_num_selects_what_main_py_selects_in_the_papers_mode(
    tiny_model_dir, tiny_model, tokenizer, tmp_path, compat, chosen
):
    # main.py: load_dataset(..., split='test[:3]'), then .filter(len(content) > 0): A and B;
    # the default mode takes the first 3 non-empty documents (as samples=3 in OpenCompass)
    path = write_jsonl(str(tmp_path / 'four.jsonl'), [A, '', B, C])
    out = str(tmp_path / 'r.json')
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                path,
                '--file_num',
                '3',
                '--block_size',
                '16',
                '--stride',
                '8',
                '--output',
                out,
                *compat,
            ]
        )
        == 0
    )
    with open(out) as f:
        result = json.load(f)
    nll, tokens = brute_force_nll(tiny_model, tokenizer, chosen, 16, 8, bool(compat))
    assert result['documents'] == len(chosen)
    assert result['chars'] == sum(len(text) for text in chosen)
    assert result['tokens'] == tokens.sum()
    assert result['nll'] == pytest.approx(nll.sum(), rel=1e-6)


def test_file_num_minus_one_is_all_and_nothing_else_below_one(tiny_model_dir, tmp_path, capsys):
    path = write_jsonl(str(tmp_path / 'four.jsonl'), [A, '', B, C])
    out = str(tmp_path / 'r.json')
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                path,
                '--file_num',
                '-1',
                '--block_size',
                '16',
                '--stride',
                '8',
                '--output',
                out,
                '--reference_compat',
            ]
        )
        == 0
    )
    with open(out) as f:
        assert json.load(f)['documents'] == 3
    for bad in ('0', '-2', 'all'):
        with pytest.raises(SystemExit) as e:
            main(['--model_name', tiny_model_dir, '--task_name', path, '--file_num', bad])
        assert e.value.code == ERROR
        assert (
            f"--file_num: {bad!r} selects no document: give a positive number, or -1 (the default) for all"
        ) in capsys.readouterr().err
    empty_first = write_jsonl(str(tmp_path / 'empty_first.jsonl'), ['', A])
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                empty_first,
                '--file_num',
                '1',
                '--reference_compat',
            ]
        )
        == ERROR
    )
    assert f'the first 1 records of {empty_first} hold no non-empty document' in capsys.readouterr().err


def _refuse(constant):
    raise ValueError(f'{constant} is not JSON')


def test_a_file_task_is_checked_against_its_manifest(tiny_model_dir, tmp_path, capsys):
    path = write_jsonl(str(tmp_path / 'mine.jsonl.gz'), ['a document'])
    (tmp_path / 'mine.manifest.json').write_text('{"file": "mine.jsonl.gz", "sha')  # cut off
    assert main(['--model_name', tiny_model_dir, '--task_name', path]) == ERROR
    err = capsys.readouterr().err
    assert (
        f'llmcompression-eval: error: {tmp_path}/mine.manifest.json, the manifest of {path}, '
        'is not the JSON object llmcompression-corpus writes (JSONDecodeError:'
    ) in err
    assert 'rebuild the corpus, or delete the manifest to read the file unchecked.' in err
    (tmp_path / 'mine.manifest.json').write_text('{"file": "mine.jsonl.gz", "sha256": "0"}')
    assert main(['--model_name', tiny_model_dir, '--task_name', path]) == ERROR
    assert (
        f'{path} does not match its manifest {tmp_path}/mine.manifest.json (checksum differs)'
    ) in capsys.readouterr().err


def test_a_result_that_cannot_be_written_is_an_error_that_keeps_the_numbers(tiny_model_dir, tmp_path, capsys):
    path = write_jsonl(str(tmp_path / 'mine.jsonl'), ['first document ' * 20])
    out = tmp_path / 'taken'
    out.mkdir()  # a folder where the result file should go
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                path,
                '--block_size',
                '32',
                '--stride',
                '8',
                '--output',
                str(out),
            ]
        )
        == ERROR
    )
    captured = capsys.readouterr()
    assert [line.split(':')[0] for line in captured.out.splitlines()] == [
        'Total loss',
        'Character num',
        'BPC',
    ]
    error, saved = captured.err.strip().splitlines()[-2:]
    assert error == (
        f'llmcompression-eval: error: cannot write the result to {out} (Is a '
        'directory); give --output a file in a folder you can write to. The '
        'result, not saved:'
    )
    result = json.loads(saved)
    assert f'BPC: {result["bpc"]}' in captured.out and result['documents'] == 1
    assert os.listdir(out) == []


def test_the_default_result_is_named_after_the_corpus(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_jsonl(str(tmp_path / 'mine.jsonl.gz'), ['first document ' * 20])
    assert (
        main(['--model_name', tiny_model_dir, '--task_name', path, '--block_size', '32', '--stride', '8'])
        == 0
    )
    model = os.path.basename(tiny_model_dir.rstrip('/'))
    assert os.listdir(tmp_path / 'results') == [f'{model}_mine.json']
