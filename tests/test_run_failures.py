"""Runs whose evaluation crashed or wrote a number that is not one: the report names them,
with their logs, instead of asking whether the evaluation ran or showing a BPC of 0."""

import json
import math
import os

from opencompass_llmcompression import summary_cli
from opencompass_llmcompression.report.failures import Failure, no_results_message
from opencompass_llmcompression.report.results import find_run_dirs, read_results

# The end of an eval task's log when CompressionEvaluator raised (earlier versions, on a model
# whose mean loss passed 709.78 nats per token)
CRASH_LOG = (
    '12/01 10:00:00 - OpenCompass - INFO - Task [m/llm_compression-cc]\n'
    'Traceback (most recent call last):\n'
    '  File "opencompass_llmcompression/core/metrics.py", line 32, in '
    'compression_metrics\n'
    "    'ppl': math.exp(nll / tokens) if tokens else float('nan'),\n"
    'OverflowError: math range error\n'
)


def crashed_run(run_dir, datasets=('llm_compression-cc',)):
    """A run folder as OpenCompass leaves it when the evaluation of ``datasets`` crashed: the
    saved config and the eval logs, and no result for them."""
    os.makedirs(os.path.join(run_dir, 'configs'))
    with open(os.path.join(run_dir, 'configs', '20260101_000000_1.py'), 'w') as f:
        f.write(
            f'datasets = {[dict(abbr=d) for d in datasets]!r}\nmodels = {[dict(abbr="m", path="/m")]!r}\n'
        )
    for dataset in datasets:
        log = os.path.join(run_dir, 'logs', 'eval', 'm', f'{dataset}.out')
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, 'w') as f:
            f.write(CRASH_LOG)
    return str(run_dir)


def write_result(run_dir, dataset, result):
    os.makedirs(os.path.join(run_dir, 'results', 'm'), exist_ok=True)
    with open(os.path.join(run_dir, 'results', 'm', f'{dataset}.json'), 'w') as f:
        json.dump(result, f)  # Python's json: NaN as older versions wrote it


def good(bpc=1.0, chars=1000):
    return dict(
        bpc=bpc, bpb=bpc, nll=bpc * chars * math.log(2), chars=chars, bytes=chars, tokens=300, ppl=3.0
    )


def test_a_run_whose_only_evaluation_crashed_is_a_run(tmp_path):
    run = crashed_run(tmp_path / 'work' / '20260101_000000')
    assert find_run_dirs([run]) == [run]
    assert find_run_dirs([str(tmp_path / 'work')]) == [run]  # the work dir holding it


def test_an_evaluation_crash_beside_a_result_is_named_with_its_log(tmp_path, capsys):
    run = crashed_run(tmp_path / 'run', ('llm_compression-cc', 'llm_compression-python'))
    os.remove(os.path.join(run, 'logs', 'eval', 'm', 'llm_compression-python.out'))
    write_result(run, 'llm_compression-python', good(0.75))
    assert summary_cli.main([run, '--out', str(tmp_path / 'out')]) == 0
    printed = capsys.readouterr().out
    log = os.path.join(run, 'logs', 'eval', 'm', 'llm_compression-cc.out')
    assert f'- llm_compression-cc (m): OverflowError: math range error (log: {log})' in printed
    assert '| m | 0.7500 |' in printed


def test_a_run_whose_only_evaluation_crashed_is_named_with_its_log(tmp_path, capsys):
    run = crashed_run(tmp_path / 'run')
    assert summary_cli.main([run, '--out', str(tmp_path / 'out')]) == 1
    err = capsys.readouterr().err
    log = os.path.join(run, 'logs', 'eval', 'm', 'llm_compression-cc.out')
    assert (
        'no compression results in the given runs; the datasets without a result:\n'
        f'- llm_compression-cc (m): OverflowError: math range error (log: {log})'
    ) in err


def test_no_results_message_names_each_failure_or_says_nothing_was_evaluated():
    failures = [
        Failure(
            'm',
            'llm_compression-cc',
            '/run/logs/eval/m/llm_compression-cc.out',
            'OverflowError: math range error',
        ),
        Failure('m', 'mmlu', None, ''),
    ]
    assert no_results_message(failures) == (
        'no compression results in the given runs; the datasets without a result:\n'
        '- llm_compression-cc (m): OverflowError: math range error (log: '
        '/run/logs/eval/m/llm_compression-cc.out)\n'
        '- mmlu (m): no result (no log found under logs/)'
    )
    assert no_results_message([]).startswith('no compression results (no result with `bpc`)')


def test_a_result_holding_nan_is_a_failure_not_a_bpc_of_zero(tmp_path, capsys):
    # what earlier versions wrote for a corpus of one token: nothing scored, BPC 0
    run = crashed_run(tmp_path / 'run', ('llm_compression-cc', 'llm_compression-python'))
    write_result(run, 'llm_compression-cc', dict(good(), bpc=0.0, nll=0.0, tokens=0, ppl=float('nan')))
    write_result(run, 'llm_compression-python', good(0.75))
    (cc,) = [r for per in read_results([run]).values() for d, r in per.items() if d == 'llm_compression-cc']
    assert set(cc) == {'error'} and cc['error'].startswith(
        'the result holds ppl = nan, not a number: a corpus that scored no token'
    )
    assert summary_cli.main([run, '--out', str(tmp_path / 'out')]) == 0
    printed = capsys.readouterr().out
    assert '- llm_compression-cc (m): the result holds ppl = nan, not a number' in printed
    assert '| model | python | average |' in printed and '| m | 0.7500 | 0.7500 |' in printed
