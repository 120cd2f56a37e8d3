"""The paper's lines: its printed fits reproduced from the shipped tables, a run's models
placed on them (checked against a least-squares fit and a prediction interval computed here),
and the scores CSV's bad inputs."""

import csv
import os

import numpy as np
import pytest
from scipy import stats
from test_report import LN2, save_run_config, write_run

from opencompass_llmcompression import summary_cli
from opencompass_llmcompression.report.benchmark_scores import (
    AVERAGE,
    DEFAULT_AREAS,
    OVERALL,
    benchmark_scores,
    read_scores_csv,
)
from opencompass_llmcompression.report.paper_fits import paper_lines, paper_table

# Pearson rho and RMSE (0-1 scale) as the paper prints them: Tables 5, 7, 9 and Figure 1 (left)
# of arXiv 2404.09937v2.
PRINTED = {
    ('knowledge', 'HellaSwag'): (-0.881, 0.016),
    ('knowledge', 'ARC-C'): (-0.913, 0.023),
    ('knowledge', 'NQ'): (-0.925, 0.023),
    ('knowledge', 'TriviaQA'): (-0.951, 0.022),
    ('knowledge', 'MMLU'): (-0.890, 0.021),
    ('knowledge', 'Average'): (-0.935, 0.019),
    ('coding', 'HumanEval'): (-0.903, 0.050),
    ('coding', 'MBPP'): (-0.916, 0.055),
    ('coding', 'DS-1000'): (-0.946, 0.032),
    ('coding', 'Average'): (-0.937, 0.040),
    ('mathematics', 'GSM8K'): (-0.922, 0.068),
    ('mathematics', 'MATH'): (-0.899, 0.033),
    ('mathematics', 'SAT-Math'): (-0.933, 0.044),
    ('mathematics', 'MMLU-Math'): (-0.916, 0.022),
    ('mathematics', 'Average'): (-0.953, 0.031),
    ('overall', 'Average'): (-0.931, 0.031),
}


def test_the_shipped_tables_give_the_papers_printed_fits():
    lines = {(li.area, li.benchmark): li for li in paper_lines()}
    assert set(lines) == set(PRINTED)
    for key, (rho, rmse) in PRINTED.items():
        fit = lines[key].fit
        assert fit['pearson'] == pytest.approx(rho, abs=0.002), key
        assert fit['rmse'] == pytest.approx(100 * rmse, abs=0.2), key  # printed on 0-1, ours in %
    assert [lines[(area, 'Average')].n for area in ('knowledge', 'coding', 'mathematics', 'overall')] == [
        19,
        28,
        19,
        19,
    ]
    for area, count in (('knowledge', 19), ('coding', 28), ('mathematics', 22)):
        benchmarks, rows = paper_table(area)
        assert len(rows) == count
        for model, row in rows.items():  # each printed Average is its row's mean, to rounding
            mean = sum(row[b] for b in benchmarks) / len(benchmarks)
            assert row['Average'] == pytest.approx(mean, abs=0.051), (area, model)


def textbook_prediction(xs, ys, x0):
    """Least squares by numpy, and the 95% prediction interval of a new point at x0, in the
    units of ``ys``."""
    xs, ys = np.asarray(xs), np.asarray(ys)
    design = np.column_stack([xs, np.ones_like(xs)])
    (slope, intercept), residual, _, _ = np.linalg.lstsq(design, ys, rcond=None)
    n = len(xs)
    s = np.sqrt(residual[0] / (n - 2))
    half = (
        stats.t.ppf(0.975, n - 2)
        * s
        * np.sqrt(1 + 1 / n + (x0 - xs.mean()) ** 2 / ((xs - xs.mean()) ** 2).sum())
    )
    y0 = slope * x0 + intercept
    return y0, y0 - half, y0 + half


def table_rows(name):
    path = os.path.join(os.path.dirname(summary_cli.__file__), 'report', f'paper_{name}.csv')
    with open(path, encoding='utf-8') as f:
        return list(csv.DictReader(line for line in f if not line.startswith('#')))


def expected(area, benchmark, x0, leave_out=()):
    rows = [r for r in table_rows(area) if r['model'] not in leave_out]
    return textbook_prediction([float(r['BPC']) for r in rows], [float(r[benchmark]) for r in rows], x0)


def expected_overall(x0):
    tables = {a: {r['model']: r for r in table_rows(a)} for a in ('knowledge', 'coding', 'mathematics')}
    models = [m for m in tables['knowledge'] if all(m in t for t in tables.values())]
    return textbook_prediction(
        [np.mean([float(t[m]['BPC']) for t in tables.values()]) for m in models],
        [np.mean([float(t[m]['Average']) for t in tables.values()]) for m in models],
        x0,
    )


def result(bpc, reference_compat=False):
    chars = 10_000
    return dict(
        bpc=bpc,
        bpb=bpc,
        nll=bpc * chars * LN2,
        chars=chars,
        tokens=3000,
        bytes=chars,
        ppl=2.0,
        measurement=dict(block_size=1900, stride=512, reference_compat=reference_compat),
    )


BPC = {'cc': 0.60, 'python': 0.30, 'arxiv_math': 0.45}
QWEN = ('Qwen-7b', 'Qwen-14b', 'Qwen-72b')


def run_with(tmp_path, path, scores=None, reference_compat=False):
    results = {'mine': {f'llm_compression-{c}': result(b, reference_compat) for c, b in BPC.items()}}
    results['mine'].update(scores or {})
    run = write_run(tmp_path / 'run', results)
    save_run_config(
        run,
        [
            dict(
                type='opencompass_llmcompression.CompressionCorpusDataset',
                abbr=f'llm_compression-{c}',
                path=path,
                name=c,
            )
            for c in BPC
        ],
        [dict(abbr='mine', path='me/mine')],
    )
    return run


def read_csv(folder, prefix):
    (name,) = [f for f in os.listdir(folder) if f.startswith(prefix)]
    with open(os.path.join(folder, name), encoding='utf-8') as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('reference_compat', [False, True])
def test_a_model_measured_the_papers_way_is_placed_on_its_lines(tmp_path, capsys, reference_compat):
    scores = {
        'gsm8k': {'accuracy': 90.0},  # far above the line
        'openai_humaneval': {'humaneval_pass@1': 30.0},
    }
    run = run_with(tmp_path, 'data/llm-compression', scores, reference_compat)
    out = tmp_path / 'out'
    assert summary_cli.main([run, '--out', str(out), '--documents', '0', '--resamples', '0']) == 0
    printed = capsys.readouterr().out
    rows = {(r['area'], r['benchmark']): r for r in read_csv(out, 'compression_paper_predictions_')}
    assert list(read_csv(out, 'compression_paper_predictions_')[0]) == [
        'model',
        'area',
        'benchmark',
        'bpc',
        'predicted',
        'pi_low',
        'pi_high',
        'line_n',
        'line_rmse',
        'measured',
        'gap_rmse',
        'flag',
        'outside_fitted_bpc',
        'scale_note',
    ]
    assert len(rows) == 16  # every benchmark, the three averages and overall
    for area, corpus in (('knowledge', 'cc'), ('coding', 'python'), ('mathematics', 'arxiv_math')):
        leave_out = QWEN if area == 'mathematics' else ()
        want = expected(area, 'Average', BPC[corpus], leave_out)
        got = rows[(area, 'Average')]
        assert [float(got[k]) for k in ('predicted', 'pi_low', 'pi_high')] == pytest.approx(want, abs=1e-4)
        assert (
            f'| mine | {area} average | {BPC[corpus]:.4f} | {want[0]:.1f} | '
            f'{want[1]:.1f} to {want[2]:.1f} |' in printed
        )
    overall = expected_overall(np.mean(list(BPC.values())))
    assert [
        float(rows[('overall', 'Average')][k]) for k in ('predicted', 'pi_low', 'pi_high')
    ] == pytest.approx(overall, abs=1e-4)
    # MMLU-Math keeps the Qwen models (only so does its fit give the printed -0.916)
    assert float(rows[('mathematics', 'MMLU-Math')]['predicted']) == pytest.approx(
        expected('mathematics', 'MMLU-Math', 0.45)[0], abs=1e-4
    )
    gsm8k = rows[('mathematics', 'GSM8K')]
    predicted = expected('mathematics', 'GSM8K', 0.45, QWEN)[0]
    rmse = float(gsm8k['line_rmse'])
    assert rmse == pytest.approx(6.75, abs=0.01)
    assert float(gsm8k['gap_rmse']) == pytest.approx((90.0 - predicted) / rmse, abs=1e-3)
    assert gsm8k['flag'] == 'above the interval'
    assert rows[('coding', 'HumanEval')]['flag'] == ''
    assert rows[('knowledge', 'MMLU')]['measured'] == ''
    assert '| mine | mathematics: GSM8K |' in printed and 'Appendix D' in printed
    assert (
        os.path.getsize(next(out / f for f in os.listdir(out) if f.startswith('compression_paper_lines_')))
        > 10_000
    )


def test_an_area_average_is_the_papers_five_or_four_benchmarks(tmp_path, capsys):
    knowledge = {
        'hellaswag': {'accuracy': 70.0},
        'ARC-c': {'accuracy': 50.0},
        'nq': {'score': 20.0},
        'triviaqa': {'score': 50.0},
        'lukaemon_mmlu_anatomy': {'accuracy': 99.0},
    }  # options shown: not the paper's
    for extra, average in (({}, ''), ({'mmlu_cloze-anatomy': {'accuracy': 40.0}}, 46.0)):
        run = run_with(tmp_path / str(bool(extra)), 'data/llm-compression', dict(knowledge, **extra))
        out = tmp_path / str(bool(extra)) / 'out'
        assert summary_cli.main([run, '--out', str(out), '--documents', '0', '--resamples', '0']) == 0
        rows = {(r['area'], r['benchmark']): r for r in read_csv(out, 'compression_paper_predictions_')}
        measured = rows[('knowledge', 'Average')]['measured']
        assert (float(measured) if measured else '') == average
        assert rows[('overall', 'Average')]['measured'] == ''  # coding, mathematics missing


def test_a_model_on_another_corpus_gets_no_prediction_and_the_reason(tmp_path, capsys):
    run = run_with(tmp_path, 'data/my-own-corpora')
    out = tmp_path / 'out'
    assert summary_cli.main([run, '--out', str(out), '--documents', '0', '--resamples', '0']) == 0
    printed = capsys.readouterr().out
    assert 'No model of this run is placed on the paper\'s lines:' in printed
    assert (
        '- llm_compression-cc: no prediction: corpus data/my-own-corpora/cc is not the '
        'paper\'s (hkust-nlp/llm-compression). The paper\'s lines hold only for BPC on its '
        'corpora with its window.'
    ) in printed
    assert not [f for f in os.listdir(out) if f.startswith('compression_paper_predictions_')]
    assert [f for f in os.listdir(out) if f.startswith('compression_paper_lines_')]


def write(tmp_path, text):
    path = tmp_path / 'scores.csv'
    path.write_text(text)
    return str(path)


def test_scores_csv_bad_inputs_are_named(tmp_path):
    assert read_scores_csv(write(tmp_path, 'model,HumanEval,gsm8k,MATH\nm,30,40,0.5%\n')) == {
        'm': {'HumanEval': 30.0, 'gsm8k': 40.0, 'MATH': 0.5}
    }
    with pytest.raises(ValueError, match=r"unknown benchmark name\(s\) 'HumanEvl'.*HellaSwag"):
        read_scores_csv(write(tmp_path, 'model,HumanEvl\nm,30\n'))
    assert read_scores_csv(write(tmp_path, 'model,lukaemon_mmlu_anatomy\nm,30\n')) == {
        'm': {'lukaemon_mmlu_anatomy': 30.0}
    }  # OpenCompass's own MMLU, for the run's fit
    with pytest.raises(ValueError, match='every score lies between 0 and 1.*multiply them by 100'):
        read_scores_csv(write(tmp_path, 'model,HumanEval,MBPP\nm,0.3,0.41\n'))
    with pytest.raises(
        ValueError,
        match=r'column\(s\) MBPP lie between 0 and 1 while the '
        'others are percentages',
    ):
        read_scores_csv(write(tmp_path, 'model,HumanEval,MBPP\nm,30,0.41\nn,20,0.3\n'))
    with pytest.raises(ValueError, match="line 3: HumanEval='130' is not a percentage"):
        read_scores_csv(write(tmp_path, 'model,HumanEval\nm,30\nn,130\n'))
    with pytest.raises(
        ValueError,
        match=r"line 4: model 'm' is listed twice \(lines 2 and "
        r"4\)",
    ):
        read_scores_csv(write(tmp_path, 'model,HumanEval\nm,30\nn,20\nm,31\n'))
    # custom areas name their own benchmarks
    areas = {'coding': {'corpus': 'python', 'benchmarks': ['my_code_*']}}
    assert read_scores_csv(write(tmp_path, 'model,my_code_x\nm,3\n'), areas) == {'m': {'my_code_x': 3.0}}


def test_summary_command_names_a_bad_scores_csv(tmp_path, capsys):
    run = run_with(tmp_path, 'data/llm-compression')
    scores = write(tmp_path, 'model,HumanEval\nmine,0.3\n')
    assert summary_cli.main([run, '--scores', scores, '--out', str(tmp_path / 'o')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('llmcompression-summary: error:') and 'multiply them by 100' in err


def test_every_benchmark_of_the_papers_suite_feeds_its_line():
    """The suite's datasets, as OpenCompass loads the config: each counted in one of the
    paper's benchmarks, and all twelve there."""
    from mmengine.config import Config

    import opencompass_llmcompression.configs.datasets.llm_compression_paper_suite as suite

    path = os.path.join(os.path.dirname(suite.__file__), 'llm_compression_paper_suite.py')
    fed = {}
    for abbr in (d['abbr'] for d in Config.fromfile(path)['datasets']):
        if abbr.startswith('llm_compression-'):
            continue
        found = [
            (area, name)
            for area, per in benchmark_scores({abbr: {'accuracy': 50.0}}, {}, DEFAULT_AREAS).items()
            if area != OVERALL
            for name in per
            if name != AVERAGE
        ]
        assert len(found) == 1, (abbr, found)
        fed.setdefault(found[0], []).append(abbr)
    assert set(fed) == {
        (area, name) for area in ('knowledge', 'coding', 'mathematics') for name in paper_table(area)[0]
    }


def test_predictions_and_bands_stay_on_the_scores_scale(tmp_path, capsys):
    """A BPC far outside the paper's range: the coding line at python BPC 0.85 is
    -240.90 * 0.85 + 102.13 = -102.6% (slope and intercept from --paper's table, by hand);
    at cc BPC 0.30 the knowledge line is -139.16 * 0.30 + 139.13 = 97.4%, its band above 100."""
    from opencompass_llmcompression.report.paper_fits import Placement, line

    raw_coding = expected('coding', 'Average', 0.85)
    assert raw_coding[0] == pytest.approx(-240.90 * 0.85 + 102.13, abs=0.01)
    assert raw_coding[2] < 0  # the whole band is below the scale
    raw_knowledge = expected('knowledge', 'Average', 0.30)
    assert raw_knowledge[0] == pytest.approx(-139.16 * 0.30 + 139.13, abs=0.01) and raw_knowledge[2] > 100

    results = {
        'far': {
            'llm_compression-cc': result(0.30),
            'llm_compression-python': result(0.85),
            'llm_compression-arxiv_math': result(0.45),
            'openai_humaneval': {'humaneval_pass@1': 5.0},
            'mbpp': {'score': 5.0},
            'ds1000_Pandas': {'accuracy': 5.0},
        }
    }
    run = write_run(tmp_path / 'run', results)
    save_run_config(
        run,
        [
            dict(
                type='opencompass_llmcompression.CompressionCorpusDataset',
                abbr=f'llm_compression-{c}',
                path='data/llm-compression',
                name=c,
            )
            for c in BPC
        ],
        [dict(abbr='far', path='me/far')],
    )
    out = tmp_path / 'out'
    assert summary_cli.main([run, '--out', str(out), '--documents', '0', '--resamples', '0']) == 0
    printed = capsys.readouterr().out
    rows = {(r['area'], r['benchmark']): r for r in read_csv(out, 'compression_paper_predictions_')}
    coding = rows[('coding', 'Average')]
    assert [coding[k] for k in ('predicted', 'pi_low', 'pi_high')] == ['0.0000', '0.0000', '0.0000']
    assert coding['measured'] == '5.0000' and coding['gap_rmse'] == '' and coding['flag'] == ''
    assert coding['scale_note'].startswith(
        f'the line reaches {raw_coding[0]:.1f}% here, past the 0-100 scale'
    )
    assert '-102.6' in coding['scale_note'] and 'no prediction applies' in coding['scale_note']
    knowledge = rows[('knowledge', 'Average')]
    assert float(knowledge['predicted']) == pytest.approx(raw_knowledge[0], abs=1e-4)
    assert float(knowledge['pi_low']) == pytest.approx(raw_knowledge[1], abs=1e-4)
    assert knowledge['pi_high'] == '100.0000'
    assert knowledge['scale_note'] == (
        f'the interval reaches past the 0-100 scale ({raw_knowledge[1]:.1f} to {raw_knowledge[2]:.1f}): '
        'cut at its end'
    )
    assert rows[('mathematics', 'Average')]['scale_note'] == ''
    assert '| far | coding average | 0.8500 | 0.0 | 0.0 to 0.0 | 5.0 | - |' in printed
    for row in rows.values():
        assert all(0 <= float(row[k]) <= 100 for k in ('predicted', 'pi_low', 'pi_high'))

    # a measured score against a band cut at 100: its gap from the line, no flag above 100
    knowledge_line = line('knowledge')
    p = Placement('m', knowledge_line, 0.30, 95.0, 90.0, 104.0, measured=99.0)
    assert (p.predicted, p.low, p.high, p.flag) == (95.0, 90.0, 100.0, '')
    assert p.gap == pytest.approx(4.0 / knowledge_line.fit['rmse'])


def test_the_papers_lines_are_printed_in_percent_per_bpc(tmp_path, capsys):
    """--paper prints the knowledge average's slope as -139.16 % per BPC (the paper's Table 4
    fitted by numpy here: -1.3916 on the 0-1 scale), intercept 139.13 %, RMSE 1.90 %."""
    rows = table_rows('knowledge')
    slope, intercept = np.polyfit([float(r['BPC']) for r in rows], [float(r['Average']) for r in rows], 1)
    assert (round(slope, 2), round(intercept, 2)) == (-139.16, 139.13)
    assert summary_cli.main(['--paper', '--out', str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert (
        '| area | benchmark | n | slope (% per BPC) | intercept (%) | r | RMSE (%) | paper rho | '
        'paper RMSE (%) | left out |'
    ) in printed
    assert '| knowledge | Average | 19 | -139.16 | 139.13 | -0.9350 | 1.90 | -0.935 | 1.9 |  |' in printed
