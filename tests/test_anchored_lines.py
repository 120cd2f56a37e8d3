"""Lines anchored on a corpus built here: the paper's models measured on it anchor its own line
(checked against numpy's least squares and the textbook prediction interval computed here),
every other model is placed on it, and what is missing is said, not left out silently."""

import json
import os

import numpy as np
import pytest
from conftest import real_documents
from test_paper_lines import read_csv, table_rows, textbook_prediction
from test_report import LN2, save_run_config, write_run

from opencompass_llmcompression import summary_cli
from opencompass_llmcompression.corpus import build as builder

# Run abbrs as OpenCompass's model configs name them, each a model of the paper's Table 4.
ANCHORS = {
    'llama-2-7b-hf': 'Llama-2-7b',
    'mistral-7b-v0.1': 'Mistral-7b',
    'falcon-7b-hf': 'Falcon-7b',
    'qwen-7b-hf': 'Qwen-7b',
    'yi-6b-hf': 'Yi-6b',
    'deepseek-llm-7b-base-hf': 'Deepseek-llm-7b',
}
PAPER = {r['model']: r for r in table_rows('knowledge')}


def built_corpus(root, name='fresh', month='2026-01', kind='text', out=None):
    """A corpus built by llmcompression-corpus from dated records of one month, into ``out``
    (default ``root/corpora``); returns that folder."""
    records = os.path.join(root, f'{name}.records.jsonl')
    os.makedirs(root, exist_ok=True)
    with open(records, 'w') as f:
        for i, text in enumerate(real_documents('text', 6, 1500)):
            f.write(json.dumps({'text': text, 'date': f'{month}-{1 + i:02d}'}) + '\n')
    out = out or os.path.join(root, 'corpora')
    builder.build(name, kind, [], out, records=[records], date_field='date', min_chars=100)
    return out


def result(bpc):
    chars = 10_000
    return dict(
        bpc=bpc,
        bpb=bpc,
        nll=bpc * chars * LN2,
        chars=chars,
        tokens=3000,
        bytes=chars,
        ppl=2.0,
        measurement=dict(block_size=1900, stride=512, reference_compat=False),
    )


def fresh_bpc(model):
    """Each anchor's BPC on the fresh text: its paper BPC, higher and not exactly on a line."""
    return 1.1 * float(PAPER[model]['BPC']) + 0.03 + 0.004 * (len(model) % 3)


def run_on(tmp_path, bpcs, scores=None, name='fresh'):
    corpora = built_corpus(str(tmp_path / 'data'), name)
    abbr = f'llm_compression-{name}'
    results = {model: {abbr: result(b)} for model, b in bpcs.items()}
    for model, extra in (scores or {}).items():
        results[model].update(extra)
    run = write_run(tmp_path / 'run', results)
    save_run_config(
        run,
        [
            dict(
                type='opencompass_llmcompression.CompressionCorpusDataset', abbr=abbr, path=corpora, name=name
            )
        ],
        [dict(abbr=m, path=f'org/{m}') for m in bpcs],
    )
    out = tmp_path / 'out'
    assert (
        summary_cli.main([run, '--out', str(out), '--documents', '0', '--resamples', '0', '--no-baselines'])
        == 0
    )
    return out


def test_the_papers_models_on_a_fresh_corpus_anchor_its_line_and_place_the_others(tmp_path, capsys):
    bpcs = {abbr: fresh_bpc(model) for abbr, model in ANCHORS.items()}
    bpcs['mine'] = 0.70
    out = run_on(tmp_path, bpcs, {'mine': {'hellaswag': {'accuracy': 99.0}}})
    printed = capsys.readouterr().out

    names = [m for m in PAPER if m in ANCHORS.values()]  # the table's order
    xs = np.array([fresh_bpc(m) for m in names])
    ys = np.array([float(PAPER[m]['Average']) for m in names])  # percent, as the report
    (slope, intercept), *_ = np.linalg.lstsq(np.column_stack([xs, np.ones_like(xs)]), ys, rcond=None)
    r = np.corrcoef(xs, ys)[0, 1]
    rmse = np.sqrt(np.mean((ys - slope * xs - intercept) ** 2))
    lines = {(row['corpus'], row['line']): row for row in read_csv(out, 'compression_anchored_fits_')}
    average = lines[('llm_compression-fresh', 'knowledge average')]
    assert average['fitted'] == 'anchored on 6 models of the paper' and average['n'] == '6'
    assert [
        float(average[k]) for k in ('slope (% per BPC)', 'intercept (%)', 'r', 'RMSE (%)')
    ] == pytest.approx([slope, intercept, r, rmse], abs=1e-4)
    paper_xs = [float(PAPER[m]['BPC']) for m in names]
    assert float(average["paper's r, same models"]) == pytest.approx(
        np.corrcoef(paper_xs, ys)[0, 1], abs=1e-4
    )
    assert average["paper's r (n)"] == '-0.9350 (19)'
    assert len(lines) == 6  # five benchmarks and the average
    hellaswag = lines[('llm_compression-fresh', 'knowledge: HellaSwag')]
    hs = np.array([float(PAPER[m]['HellaSwag']) for m in names])
    assert float(hellaswag['r']) == pytest.approx(np.corrcoef(xs, hs)[0, 1], abs=1e-4)

    rows = read_csv(out, 'compression_anchored_predictions_')
    assert list(rows[0]) == [
        'model',
        'corpus',
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
    assert {row['model'] for row in rows} == {'mine'}  # the anchors are not placed on their own line
    placed = {row['benchmark']: row for row in rows}
    want = textbook_prediction(xs, ys, 0.70)
    got = placed['Average']
    assert [float(got[k]) for k in ('predicted', 'pi_low', 'pi_high')] == pytest.approx(want, abs=1e-4)
    assert got['line_n'] == '6' and float(got['line_rmse']) == pytest.approx(rmse, abs=1e-3)
    hs_want = textbook_prediction(xs, hs, 0.70)
    assert float(placed['HellaSwag']['predicted']) == pytest.approx(hs_want[0], abs=1e-4)
    assert (
        placed['HellaSwag']['measured'] == '99.0000' and placed['HellaSwag']['flag'] == 'above the interval'
    )
    assert (
        f'| mine | llm_compression-fresh: knowledge average | 0.7000 | {want[0]:.1f} | '
        f'{want[1]:.1f} to {want[2]:.1f} |' in printed
    )
    assert '| llm_compression-fresh | knowledge average | anchored on 6 models of the paper | 6 |' in printed
    assert 'It has a line of its own, anchored on the paper\'s models (below).' in printed
    (plot,) = [
        f for f in os.listdir(out) if f.startswith('compression_anchored_lines_') and f.endswith('.png')
    ]
    assert os.path.getsize(out / plot) > 10_000


def test_too_few_anchors_and_an_anchor_listed_twice_are_named(tmp_path, capsys):
    bpcs = {abbr: fresh_bpc(ANCHORS[abbr]) for abbr in ('llama-2-7b-hf', 'mistral-7b-v0.1', 'falcon-7b-hf')}
    bpcs['Llama-2-7b'] = 0.9  # the same model of the paper as llama-2-7b-hf
    bpcs['mine'] = 0.7
    out = run_on(tmp_path, bpcs)
    printed = capsys.readouterr().out
    assert (
        "- llm_compression-fresh: Llama-2-7b is listed twice (llama-2-7b-hf, Llama-2-7b): it anchors the "
        "line once, with llama-2-7b-hf's BPC" in printed
    )
    assert (
        "- llm_compression-fresh: no prediction: not one of the paper's corpora (cc, python, arxiv_math). "
        "The paper's lines hold only for BPC on its corpora with its window. No line of its own either: 3 "
        "model(s) of the paper's knowledge table measured on it (Llama-2-7b, Mistral-7b, Falcon-7b), a line "
        'needs at least 4. Add 1 or more of them to the run (e.g. Deepseek-llm-7b, Llama-1-7b, Qwen-7b, '
        'Yi-6b, Llama-1-13b, Llama-2-13b; llm_compression_anchors runs a set).'
    ) in printed
    assert not [f for f in os.listdir(out) if f.startswith('compression_anchored_')]


def hand_built(folder, name, kind, month):
    """A corpus with the manifest llmcompression-corpus writes, reduced to what the report reads."""
    from opencompass_llmcompression.core.checksums import file_sha256

    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f'{name}.jsonl')
    with open(path, 'w') as f:
        f.write(json.dumps({'content': f'{name} text'}) + '\n')
    with open(os.path.join(folder, f'{name}.manifest.json'), 'w') as f:
        json.dump(
            {
                'file': f'{name}.jsonl',
                'sha256': file_sha256(path),
                'settings': {'kind': kind},
                'period': {'first': f'{month}-01', 'last': f'{month}-28'},
            },
            f,
        )


def test_one_corpus_of_each_kind_anchors_the_overall_line_beside_the_papers_own(tmp_path, capsys):
    tables = {a: {r['model']: r for r in table_rows(a)} for a in ('knowledge', 'coding', 'mathematics')}
    kinds = {'web': ('text', 'knowledge'), 'code': ('code', 'coding'), 'math': ('latex', 'mathematics')}
    folder = str(tmp_path / 'fresh')
    for name, (kind, _) in kinds.items():
        hand_built(folder, name, kind, '2026-01')

    def bpc(model, area):
        return 1.1 * float(tables[area][model]['BPC']) + 0.004 * (len(model) % 3)

    results = {
        abbr: {name: result(bpc(model, area)) for name, (_, area) in kinds.items()}
        for abbr, model in ANCHORS.items()
    }
    mine = {'web': 0.70, 'code': 0.36, 'math': 0.52}
    results['mine'] = {name: result(v) for name, v in mine.items()}
    results['mine']['llm_compression-cc'] = result(0.60)  # the paper's corpus, the paper's way
    run = write_run(tmp_path / 'run', results)
    datasets = [
        dict(type='opencompass_llmcompression.CompressionCorpusDataset', abbr=n, path=folder, name=n)
        for n in kinds
    ]
    datasets.append(
        dict(
            type='opencompass_llmcompression.CompressionCorpusDataset',
            abbr='llm_compression-cc',
            path='data/llm-compression',
            name='cc',
        )
    )
    save_run_config(run, datasets, [dict(abbr=m, path=m) for m in results])
    out = tmp_path / 'out'
    assert (
        summary_cli.main(
            [str(run), '--out', str(out), '--documents', '0', '--resamples', '0', '--no-baselines']
        )
        == 0
    )
    printed = capsys.readouterr().out

    names = [m for m in tables['knowledge'] if m in ANCHORS.values()]
    xs = np.array([np.mean([bpc(m, a) for a in tables]) for m in names])
    ys = np.array([np.mean([float(tables[a][m]['Average']) for a in tables]) for m in names])
    fits = {(row['corpus'], row['line']): row for row in read_csv(out, 'compression_anchored_fits_')}
    overall = fits[('web, code, math', 'overall average')]
    assert overall['n'] == '6' and float(overall['r']) == pytest.approx(np.corrcoef(xs, ys)[0, 1], abs=1e-4)
    assert fits[('math', 'mathematics average')]['n'] == '5'  # Qwen-7b left out, as the paper's line
    assert fits[('math', 'mathematics: MMLU-Math')]['n'] == '6'
    assert fits[('cc', 'knowledge average')]['fitted'] == "the paper's own line"
    assert "| cc | knowledge average | the paper's own line | 19 |" in printed
    rows = {(r['corpus'], r['benchmark']): r for r in read_csv(out, 'compression_anchored_predictions_')}
    want = textbook_prediction(xs, ys, np.mean(list(mine.values())))
    got = rows[('web, code, math', 'Average')]
    assert got['area'] == 'overall'
    assert [float(got[k]) for k in ('predicted', 'pi_low', 'pi_high')] == pytest.approx(want, abs=1e-4)
    paper = {(r['area'], r['benchmark']): r for r in read_csv(out, 'compression_paper_predictions_')}
    assert set(paper) >= {('knowledge', 'Average')} and ('overall', 'Average') not in paper


def test_several_periods_of_each_kind_give_one_overall_line_per_month():
    import datetime

    from opencompass_llmcompression.report.anchored_lines import AnchoredCorpus, overall_groups
    from opencompass_llmcompression.report.corpus_periods import CorpusInfo, Period

    def corpus(name, kind, area, month, first_day, last_day):
        day = datetime.date
        info = CorpusInfo(name, kind, Period(day(2026, month, first_day), day(2026, month, last_day)))
        return AnchoredCorpus(name, area, info, {}, {})

    kinds = (('web', 'text', 'knowledge'), ('code', 'code', 'coding'), ('math', 'latex', 'mathematics'))
    corpora = [
        corpus(f'{name}_{month}', kind, area, month, 1 + i, 25 + i)  # days differ, months agree
        for month in (1, 2)
        for i, (name, kind, area) in enumerate(kinds)
    ]
    groups, notes = overall_groups(corpora)
    assert [(label, sorted(c.abbr for c in group.values())) for label, group in groups] == [
        ('2026-01', ['code_1', 'math_1', 'web_1']),
        ('2026-02', ['code_2', 'math_2', 'web_2']),
    ]
    assert notes == []
    groups, notes = overall_groups(corpora[:4])  # February has only web
    assert [label for label, _ in groups] == ['2026-01'] and notes == []
    assert overall_groups([corpora[0], corpora[1], corpora[3]]) == ([], [])  # no latex corpus
    groups, notes = overall_groups(corpora[:3] + [corpus('web_1b', 'text', 'knowledge', 1, 2, 20)])
    assert groups == [] and notes == [
        "no overall line of the run's corpora: it takes one corpus of each kind (text, code, latex), and the "
        'run has several of a kind without one of each sharing a period'
    ]


def test_anchors_the_papers_line_leaves_out_are_said_to_be_left_out(tmp_path, capsys):
    folder = str(tmp_path / 'fresh')
    hand_built(folder, 'math', 'latex', '2026-01')
    anchors = {
        'qwen-7b-hf': 0.50,
        'qwen-14b-hf': 0.47,
        'qwen-72b-hf': 0.43,
        'llama-2-7b-hf': 0.52,
        'mine': 0.45,
    }
    run = write_run(tmp_path / 'run', {m: {'math': result(b)} for m, b in anchors.items()})
    dataset = dict(
        type='opencompass_llmcompression.CompressionCorpusDataset', abbr='math', path=folder, name='math'
    )
    save_run_config(run, [dataset], [dict(abbr=m, path=m) for m in anchors])
    out = tmp_path / 'out'
    assert (
        summary_cli.main(
            [str(run), '--out', str(out), '--documents', '0', '--resamples', '0', '--no-baselines']
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (
        "- math: GSM8K, MATH, SAT-Math, Average: fewer than 4 anchors once the paper's left-out models "
        '(Qwen-7b, Qwen-14b, Qwen-72b) are left out: no such line; add other anchors'
    ) in printed
    fits = read_csv(out, 'compression_anchored_fits_')
    assert [(r['line'], r['n']) for r in fits] == [('mathematics: MMLU-Math', '4')]
    assert 'No average line to place a model on' in printed
    (placed,) = read_csv(out, 'compression_anchored_predictions_')
    assert (placed['model'], placed['benchmark']) == ('mine', 'MMLU-Math')
