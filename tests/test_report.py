"""The leaderboard, the document view, the fit and the summary command on results whose
answers are known by hand."""

import json
import math
import os

import pytest

from opencompass_llmcompression import summary_cli
from opencompass_llmcompression.report.benchmark_scores import DEFAULT_AREAS, read_scores_csv
from opencompass_llmcompression.report.documents import extremes
from opencompass_llmcompression.report.leaderboard import leaderboard
from opencompass_llmcompression.report.linear_fit import area_points, fit_areas, fit_line

LN2 = math.log(2)


PAPERS = dict(block_size=1900, stride=512, reference_compat=False)


def compression(bpc, chars=1000, measurement=None):
    """A result as CompressionEvaluator writes it, for a given BPC (with the window settings it
    records, when given)."""
    result = dict(bpc=bpc, bpb=bpc * 0.9, nll=bpc * chars * LN2, chars=chars, tokens=300, bytes=1100, ppl=3.0)
    return dict(result, measurement=measurement) if measurement else result


def write_run(run_dir, results, predictions=None):
    for model, per_dataset in results.items():
        os.makedirs(os.path.join(run_dir, 'results', model), exist_ok=True)
        for dataset, result in per_dataset.items():
            with open(os.path.join(run_dir, 'results', model, f'{dataset}.json'), 'w') as f:
                json.dump(result, f)
    for (model, filename), rows in (predictions or {}).items():
        os.makedirs(os.path.join(run_dir, 'predictions', model), exist_ok=True)
        with open(os.path.join(run_dir, 'predictions', model, filename), 'w') as f:
            json.dump({str(i): {'origin_prompt': '', 'prediction': r} for i, r in enumerate(rows)}, f)
    return str(run_dir)


def test_leaderboard_sorts_by_average_and_shows_gaps():
    results = {
        'a': {'x-cc': compression(1.0), 'x-py': compression(0.5)},
        'b': {'x-cc': compression(0.8), 'x-py': compression(0.4)},
        'c': {'x-cc': compression(0.1)},  # missing a corpus: no average, last
        'd': {'x-cc': {'error': 'boom'}, 'x-py': compression(0.2)},
    }
    header, rows = leaderboard(results, ['x-cc', 'x-py'])
    assert header == ['model', 'cc', 'py', 'average']
    assert rows == [
        ['b', '0.8000', '0.4000', '0.6000'],
        ['a', '1.0000', '0.5000', '0.7500'],
        ['c', '0.1000', '-', '-'],
        ['d', '-', '0.2000', '-'],
    ]
    _, bpb = leaderboard(results, ['x-cc', 'x-py'], metric='bpb', models=['a'])
    assert bpb == [['a', '0.9000', '0.4500', '0.6750']]


def test_leaderboard_adds_a_row_per_compressor():
    baselines = {'cc': {'gzip -9': dict(bpc=3.0)}, 'py': {'gzip -9': dict(bpc=2.0)}}
    _, rows = leaderboard({'m': {'cc': compression(1.0)}}, ['cc', 'py'], baselines=baselines)
    assert rows[-1] == ['(gzip -9)', '3.0000', '2.0000', '2.5000']


def test_documents_lowest_and_highest_each_once():
    rows = [
        dict(document_index=i, nll=nll * LN2, chars=10, tokens=3, bytes=10)
        for i, nll in enumerate([50, 10, 30, 20, 40])
    ]
    rows.append(dict(document_index=5, nll=0.0, chars=10, tokens=0, bytes=10))  # unscored
    picked = extremes(rows, 2)
    assert [(r['rank'], r['document_index']) for r in picked] == [
        ('lowest', 1),
        ('lowest', 3),
        ('highest', 0),
        ('highest', 4),
    ]
    assert picked[0]['bpc'] == pytest.approx(1.0)
    assert [r['document_index'] for r in extremes(rows[:3], 5)] == [1, 2, 0]  # no repeats


def test_a_perfect_line_has_r_minus_one():
    fit = fit_line([0.5, 0.7, 0.9, 1.1], [60.0, 50.0, 40.0, 30.0])
    assert fit['pearson'] == pytest.approx(-1.0)
    assert fit['slope'] == pytest.approx(-50.0)
    assert fit['intercept'] == pytest.approx(85.0)
    assert fit['rmse'] == pytest.approx(0.0, abs=1e-9)


def test_fit_by_hand():
    # x = 1, 2, 3; y = 1, 2, 2: Sxy = 1, Sxx = 2, Syy = 2/3, so slope 1/2, intercept 2/3,
    # r = 1 / sqrt(4/3), residuals -1/6, 1/3, -1/6: RMSE sqrt(1/18).
    fit = fit_line([1, 2, 3], [1, 2, 2])
    assert fit['slope'] == pytest.approx(0.5)
    assert fit['intercept'] == pytest.approx(2 / 3)
    assert fit['pearson'] == pytest.approx(math.sqrt(3) / 2)
    assert fit['rmse'] == pytest.approx(math.sqrt(1 / 18))


def test_area_scores_weigh_each_benchmark_once_and_need_three_models():
    results = {}
    for i, model in enumerate(['m1', 'm2', 'm3']):
        results[model] = {
            'llm_compression-python': compression(1.0 - 0.1 * i),
            'openai_humaneval': {'humaneval_pass@1': 10.0 * (i + 1)},
            'mbpp': {'score': 20.0, 'pass': 3},
        }
        for subject in range(5):  # five MMLU subsets count as one benchmark
            results[model][f'lukaemon_mmlu_s{subject}'] = {'accuracy': 40.0 + i}
        results[model]['llm_compression-cc'] = compression(2.0 - 0.1 * i)
    results['m1']['triviaqa'] = {'score': 60.0}
    points = area_points(results, DEFAULT_AREAS)
    assert points['coding'] == {'m1': (1.0, 15.0), 'm2': (0.9, 20.0), 'm3': (0.8, 25.0)}
    assert points['knowledge']['m1'] == (2.0, 50.0)  # mean of MMLU (40) and TriviaQA (60)
    assert points['knowledge']['m2'] == (1.9, 41.0)
    assert points['mathematics'] == {}
    fits = fit_areas(points)
    assert fits['coding']['slope'] == pytest.approx(-50.0)
    two = fit_areas({'coding': dict(list(points['coding'].items())[:2])})
    assert 'at least 3' in two['coding']['reason']


def test_a_fit_of_equal_scores_prints_no_nan():
    from opencompass_llmcompression.report.leaderboard import to_markdown
    from opencompass_llmcompression.report.linear_fit import fit_table

    points = {'mathematics': {'a': (0.5, 0.0), 'b': (0.6, 0.0), 'c': (0.7, 0.0)}}  # GSM8K 0
    header, rows = fit_table(fit_areas(points), DEFAULT_AREAS)
    assert rows == [
        [
            'mathematics',
            'arxiv_math',
            '3',
            '0.000',
            '0.000',
            '-',
            '0.000',
            'r undefined: every model has the same score',
        ]
    ]
    to_markdown(header, rows)  # refuses NaN in a numeric column


def test_scores_csv(tmp_path):
    path = tmp_path / 'scores.csv'
    path.write_text('model,MMLU,coding\nm1,45.5,\nm2,50,12\n')
    assert read_scores_csv(str(path)) == {'m1': {'MMLU': 45.5}, 'm2': {'MMLU': 50.0, 'coding': 12.0}}
    path.write_text('name,mmlu\nm1,3\n')
    with pytest.raises(ValueError, match='first column is `model`'):
        read_scores_csv(str(path))
    path.write_text('model,mmlu\nm1,high\n')
    with pytest.raises(ValueError, match='line 2: mmlu=.high. is not a number'):
        read_scores_csv(str(path))


def test_summary_command_writes_table_documents_and_plot(tmp_path, capsys):
    rows = [dict(document_index=i, nll=(i + 1) * 100.0, chars=100, tokens=30, bytes=100) for i in range(4)]
    results = {
        f'model{i}': {
            'llm_compression-cc': compression(1.0 + i / 10),
            'llm_compression-python': compression(0.5 + i / 10),
        }
        for i in range(3)
    }
    predictions = {
        ('model0', 'llm_compression-cc_0.json'): rows[:2],
        ('model0', 'llm_compression-cc_1.json'): rows[2:],
    }
    write_run(tmp_path / 'work' / '20260101_000000', results, predictions)
    scores = tmp_path / 'scores.csv'
    scores.write_text('model,openai_humaneval,mmlu\nmodel0,30,60\nmodel1,20,55\nmodel2,10,51\n')
    out = tmp_path / 'report'
    code = summary_cli.main(
        [str(tmp_path / 'work'), '--scores', str(scores), '--bpb', '--documents', '1', '--out', str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert '| model0 | 1.0000 | 0.5000 | 0.7500 |' in printed
    assert printed.index('| model0 |') < printed.index('| model1 |') < printed.index('| model2')
    assert '## BPB' in printed
    files = sorted(os.listdir(out))
    png = [f for f in files if f.startswith('compression_fit_') and f.endswith('.png')]
    assert len(png) == 1 and os.path.getsize(out / png[0]) > 1000
    (documents,) = [f for f in files if f.startswith('compression_documents') and f.endswith('.csv')]
    lines = (out / documents).read_text().splitlines()[1:]
    # document 0 has nll 100 over 100 chars: 1/ln 2 bits per char; document 3: 4/ln 2
    assert lines[0].split(',')[2:5] == ['lowest', '0', f'{1 / LN2:.4f}']
    assert lines[1].split(',')[2:5] == ['highest', '3', f'{4 / LN2:.4f}']
    # coding: BPC 0.5, 0.6, 0.7 against 30, 20, 10: a perfect line, slope -100
    assert '| coding | python | 3 | -100.000 | 80.000 | -1.0000 | 0.000 |' in printed


def test_summary_command_on_broken_folders(tmp_path, capsys):
    assert summary_cli.main([str(tmp_path / 'nowhere')]) == 1
    assert 'is not a folder' in capsys.readouterr().err
    (tmp_path / 'empty').mkdir()
    assert summary_cli.main([str(tmp_path / 'empty')]) == 1
    assert 'no results/ folder' in capsys.readouterr().err
    run = write_run(tmp_path / 'run', {'m': {'mmlu': {'accuracy': 50.0}}})
    assert summary_cli.main([run]) == 1
    assert 'no compression results' in capsys.readouterr().err
    write_run(run, {'m': {'llm_compression-cc': compression(1.0)}})
    with open(os.path.join(run, 'results', 'm', 'llm_compression-python.json'), 'w') as f:
        f.write('{"bpc": 1.')  # truncated
    assert summary_cli.main([run, '--out', str(tmp_path / 'out')]) == 0
    captured = capsys.readouterr()
    assert 'skipping unreadable result' in captured.err and 'llm_compression-python' in captured.err
    assert '| m | 1.0000 |' in captured.out and 'no fit' in captured.out.lower()
    assert summary_cli.main([run, '--areas', '{"coding": {"corpus": "python"}}']) == 1
    assert 'needs a "corpus" name and "benchmarks"' in capsys.readouterr().err


def documents_of(bpcs, chars=200):
    """Per-document rows of the given BPCs, and the result they add up to."""
    rows = [
        dict(document_index=i, nll=b * chars * LN2, chars=chars, tokens=50, bytes=chars)
        for i, b in enumerate(bpcs)
    ]
    nll, total = sum(r['nll'] for r in rows), chars * len(rows)
    result = dict(
        bpc=nll / (total * LN2),
        bpb=nll / (total * LN2),
        nll=nll,
        chars=total,
        tokens=50 * len(rows),
        bytes=total,
        ppl=2.0,
        measurement=PAPERS,
    )
    return rows, result


def test_report_intervals_pairs_and_the_papers_rows(tmp_path, capsys):
    from test_intervals import bootstrap_ratio_interval, paired_difference

    spread = [0.5, 0.55, 0.6, 0.65, 0.7, 0.62, 0.58, 0.66]
    better = [b - 0.01 for b in spread]
    results, predictions = {}, {}
    for model, bpcs in (('llama-2-7b-hf', spread), ('mine', better)):
        rows, result = documents_of(bpcs)
        results[model] = {'llm_compression-cc': result}
        predictions[model, 'llm_compression-cc.json'] = rows
    rows, result = documents_of(spread[:6])
    results['short'] = {'llm_compression-cc': result}
    predictions['short', 'llm_compression-cc.json'] = rows
    results['nopred'] = {'llm_compression-cc': compression(0.9)}
    run = write_run(tmp_path / 'run', results, predictions)
    out = tmp_path / 'out'
    assert summary_cli.main([run, '--out', str(out), '--documents', '0', '--bpb']) == 0
    printed = capsys.readouterr().out
    chars = [200] * len(spread)
    nll = [b * 200 * LN2 for b in spread]
    interval = bootstrap_ratio_interval(nll, chars)
    half = f'{(interval.high - interval.low) / 2:.2g}'
    assert f'| llama-2-7b-hf | {interval.value:.4f} ± {half} |' in printed
    assert '| nopred | 0.9000 |' in printed
    assert 'nopred on llm_compression-cc: no interval, no per-document predictions' in printed
    (bpc_csv,) = [f for f in os.listdir(out) if f.startswith('compression_bpc_')]
    lines = (out / bpc_csv).read_text().splitlines()
    assert (
        lines[0] == 'model,corpus,bpc,bpc_ci_low,bpc_ci_high,block_size,stride,reference_compat,chars_unseen'
    )
    assert (
        f'llama-2-7b-hf,llm_compression-cc,{interval.value:.6f},{interval.low:.6f},'
        f'{interval.high:.6f},1900,512,False,' in lines
    )
    (bpb_csv,) = [f for f in os.listdir(out) if f.startswith('compression_bpb_')]
    assert (out / bpb_csv).read_text().startswith('model,corpus,bpb,bpb_ci_low,bpb_ci_high,')
    assert 'Measured with block_size=1900, stride=512, reference_compat=False' in printed
    # mine is better on every document: the paired interval lies below zero
    difference = paired_difference([b * 200 * LN2 for b in better], nll, chars)
    assert difference.high < 0
    assert (
        f'| llm_compression-cc | mine | llama-2-7b-hf | {difference.value:+.4f} | '
        f'[{difference.low:+.4f}, {difference.high:+.4f}] | mine compresses better |' in printed
    )
    assert (
        'llm_compression-cc: llama-2-7b-hf and short not compared, llama-2-7b-hf has 8 '
        'documents, short 6.' in printed
    )
    # the paper's Llama-2-7b row (cc 0.612) beside the run's, the corpus unknown here
    assert '| Llama-2-7b | paper | 0.612 |' in printed
    assert f'|  | difference | {interval.value - 0.612:+.4f} |' in printed
    assert 'corpus unknown' in printed and 'arXiv 2404.09937' in printed


def test_paper_names_match_and_the_table_ships(tmp_path, capsys):
    from opencompass_llmcompression.report import paper_reference as paper

    for name in ('llama-2-7b-hf', 'Llama-2-7b', 'meta-llama/Llama-2-7b-hf'):
        assert paper.match(name)['cc'] == 0.612
    assert paper.match('Qwen/Qwen1.5-7B')['model'] == 'Qwen-1.5-7b'
    assert paper.match('mistralai/Mistral-7B-v0.1')['model'] == 'Mistral-7b'
    assert paper.match('meta-llama/Meta-Llama-3-8B')['model'] == 'Llama-3-8b'
    assert paper.match('llama-2-7b-chat-hf') is None and paper.match('mine') is None
    rows = paper.paper_rows()
    assert len(rows) == 28 and len({paper.normalise(r['model']) for r in rows}) == 28
    for row in rows:  # the published average is the mean of the three, to rounding
        assert row['average'] == pytest.approx(
            (row['cc'] + row['python'] + row['arxiv_math']) / 3, abs=0.0011
        )
    assert summary_cli.main(['--paper', '--out', str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert os.path.getsize(tmp_path / 'paper_lines.png') > 1000
    assert '| Llama-3-70b | 0.496 | 0.204 | 0.376 | 0.359 |' in printed
    assert 'hkust-nlp/llm-compression-intelligence' in printed


def test_what_the_run_lets_a_user_expect_from_the_papers_numbers():
    from opencompass_llmcompression.core.settings import MeasurementSettings
    from opencompass_llmcompression.report.paper_reference import compatibility
    from opencompass_llmcompression.report.results import corpus_locations

    inferencer = dict(type='opencompass_llmcompression.SlidingWindowPPLInferencer', stride=256)
    cfgs = [
        dict(
            type='x.CompressionCorpusDataset',
            abbr=f'llm_compression-{name}',
            path='data/llm-compression',
            name=name,
            infer_cfg=dict(inferencer=inferencer),
        )
        for name in ('cc', 'python')
    ]
    cfgs.append(dict(type='x.CompressionCorpusDataset', abbr='own', path='/data/mine', name='cc'))
    cfgs.append(dict(type='x.OtherDataset', abbr='mmlu'))
    locations = corpus_locations(cfgs)
    # where the text is, and nothing of the windows: those come from the results
    assert locations == {
        'llm_compression-cc': dict(path='data/llm-compression', name='cc', samples=None),
        'llm_compression-python': dict(path='data/llm-compression', name='python', samples=None),
        'own': dict(path='/data/mine', name='cc', samples=None),
    }
    exact, default = MeasurementSettings(reference_compat=True), MeasurementSettings()
    assert 'third decimal' in compatibility(locations['llm_compression-cc'], exact)
    assert 'second decimal' in compatibility(locations['llm_compression-python'], default)
    own = compatibility(locations['own'], MeasurementSettings(1900, 256))
    assert "not the paper's" in own and 'windows 1900/256' in own
    other = compatibility(locations['llm_compression-cc'], MeasurementSettings(1024, 512))
    assert other.startswith('different measurement') and 'windows 1024/512' in other
    assert 'first 5 documents' in compatibility(dict(locations['llm_compression-cc'], samples=5), exact)
    assert 'corpus unknown' in compatibility(None, exact)
    assert 'window settings not recorded' in compatibility(locations['own'], None)


def test_a_corpus_built_here_is_not_the_papers(tmp_path):
    from opencompass_llmcompression.core.settings import MeasurementSettings
    from opencompass_llmcompression.report.paper_reference import compatibility

    location = dict(path=str(tmp_path / 'data' / 'llm-compression'), name='cc', samples=None)
    exact = MeasurementSettings(reference_compat=True)
    os.makedirs(location['path'])
    (tmp_path / 'data' / 'llm-compression' / 'cc.jsonl').write_text('{"content": "a"}\n')
    assert 'third decimal' in compatibility(location, exact)
    (tmp_path / 'data' / 'llm-compression' / 'cc.manifest.json').write_text('{}')
    assert 'built by llmcompression-corpus' in compatibility(location, exact)


def test_results_of_different_settings_are_neither_pooled_nor_compared(tmp_path, capsys):
    """The settings come from the results themselves. Two models measured under different
    settings on one corpus: no report, both named. Corpora measured under different settings:
    each shown with its own, and no average over them. Results that record none (older ones)
    are shown, not compared to a setting they cannot show."""
    other = dict(PAPERS, stride=256)
    run = write_run(
        tmp_path / 'run',
        {
            'a': {'llm_compression-cc': compression(1.0, 1000, PAPERS)},
            'b': {'llm_compression-cc': compression(0.9, 1000, other)},
        },
    )
    assert summary_cli.main([run, '--out', str(tmp_path / 'out')]) == 1
    err = capsys.readouterr().err
    assert (
        'llm_compression-cc was measured under different settings and cannot be compared: '
        'a with block_size=1900, stride=512, reference_compat=False, b with '
        'block_size=1900, stride=256, reference_compat=False'
    ) in err
    assert not (tmp_path / 'out').exists()

    mixed = write_run(
        tmp_path / 'mixed',
        {
            model: {
                'llm_compression-cc': compression(bpc, 1000, PAPERS),
                'llm_compression-python': compression(bpc / 2, 1000, other),
            }
            for model, bpc in (('a', 1.0), ('b', 0.9))
        },
    )
    out = tmp_path / 'mixed-out'
    assert summary_cli.main([mixed, '--out', str(out), '--resamples', '0']) == 0
    printed = capsys.readouterr().out
    assert (
        '- llm_compression-cc: block_size=1900, stride=512, reference_compat=False\n'
        '- llm_compression-python: block_size=1900, stride=256, reference_compat=False' in printed
    )
    assert '| b | 0.9000 | 0.4500 | - |' in printed  # no average
    assert (
        'No average over the corpora: llm_compression-cc was measured with block_size=1900, '
        'stride=512, reference_compat=False, llm_compression-python with block_size=1900, '
        'stride=256, reference_compat=False'
    ) in printed
    (bpc_csv,) = [f for f in os.listdir(out) if f.startswith('compression_bpc_')]
    lines = (out / bpc_csv).read_text().splitlines()
    assert 'b,llm_compression-python,0.450000,,,1900,256,False,' in lines
    assert not any(',average,' in line for line in lines)

    same = write_run(
        tmp_path / 'same',
        {
            'a': {'llm_compression-cc': compression(1.0, 1000, other)},
            'old': {'llm_compression-cc': compression(0.9)},
        },
    )
    assert summary_cli.main([same, '--out', str(tmp_path / 'out')]) == 0
    printed = capsys.readouterr().out
    assert 'Measured with block_size=1900, stride=256, reference_compat=False' in printed
    assert '| old | 0.9000 |' in printed and '| a | 1.0000 |' in printed


def save_run_config(run_dir, datasets, models):
    """The config OpenCompass saves with a run, reduced to what the report reads from it."""
    os.makedirs(os.path.join(run_dir, 'configs'), exist_ok=True)
    with open(os.path.join(run_dir, 'configs', '20260101_000000_1.py'), 'w') as f:
        f.write(f'datasets = {datasets!r}\nmodels = {models!r}\n')


def test_summary_of_a_run_by_opencompass_builtin_says_so_and_how_to_rerun(tmp_path, capsys):
    """What BPCEvaluator and SWCELossInferencer write: a bare `bpc`, a loss per batch."""
    run = write_run(
        tmp_path / 'work' / '20260101_000000',
        {'llama': {f'llm_compression-{n}': {'bpc': 0.8} for n in ('commoncraw', 'python', 'arxiv_math')}},
        {('llama', 'llm_compression-python.json'): []},
    )
    with open(os.path.join(run, 'predictions', 'llama', 'llm_compression-python.json'), 'w') as f:
        json.dump({'0': {'loss': 2.5, 'total_chr_num': 9000}}, f)
    save_run_config(run, [], [dict(abbr='llama', path='/models/llama-7b')])
    assert summary_cli.main([str(tmp_path / 'work')]) == 1
    captured = capsys.readouterr()
    assert '| llama |' not in captured.out  # no leaderboard of its numbers
    err = captured.err
    assert "measured by OpenCompass's built-in compression evaluator" in err
    assert 'SWCELossInferencer predictions' in err and 'cannot be trusted' in err
    assert 'llm_compression-commoncraw' in err and 'divides the loss of all shards' in err
    from opencompass_llmcompression import CONFIG_DIR

    assert (
        f'opencompass --config-dir {CONFIG_DIR} --datasets llm_compression --summarizer '
        'llm_compression --hf-type base --hf-path /models/llama-7b'
    ) in err

    # beside results of ours, the built-in's are left out of the table, with the same warning
    write_run(
        run,
        {
            'ours': {
                'llm_compression-python': dict(
                    compression(0.6), plugin='opencompass-llmcompression', plugin_version='0.1.0'
                )
            }
        },
    )
    assert summary_cli.main([run, '--out', str(tmp_path / 'out')]) == 0
    captured = capsys.readouterr()
    assert '| ours | 0.6000 |' in captured.out and '| llama |' not in captured.out
    assert "OpenCompass's built-in" in captured.err


def test_a_failed_benchmark_is_named_with_its_log_and_the_fix(tmp_path, capsys):
    run = tmp_path / 'run'
    write_run(run, {f'm{i}': {'llm_compression-cc': compression(1.0 + i / 10)} for i in range(3)})
    save_run_config(
        run,
        [dict(abbr='llm_compression-cc'), dict(abbr='lukaemon_mmlu_anatomy')],
        [dict(abbr=f'm{i}', path=f'/m{i}') for i in range(3)],
    )
    log = run / 'logs' / 'infer' / 'm0' / 'lukaemon_mmlu_anatomy.out'
    os.makedirs(log.parent)
    log.write_text(
        'Traceback (most recent call last):\n  File "x.py", line 1\n'
        "AttributeError: TokenizersBackend has no attribute batch_encode_plus\n"
        'E1124 12:00:00 task failed\n'
    )
    assert summary_cli.main([str(run), '--out', str(tmp_path / 'out')]) == 0
    printed = capsys.readouterr().out
    assert '## Datasets of the run without a result' in printed
    line = next(x for x in printed.splitlines() if x.startswith('- lukaemon_mmlu_anatomy (m0)'))
    assert 'AttributeError: TokenizersBackend has no attribute batch_encode_plus' in line
    assert f'log: {log}' in line and 'install transformers 4.x' in line
    assert '- lukaemon_mmlu_anatomy (m1): no result (no log found under logs/)' in printed
    assert 'the datasets listed above failed' in printed
    assert 'run benchmarks (e.g.' not in printed
