"""BPC over time: a tiny model fine-tuned on the older text, among tiny models that never saw
it, is the one flagged; corpora whose periods overlap, lack a date or share no model are named."""

import json
import os

import numpy as np
import pytest
import torch
from conftest import make_tiny_model, real_documents
from test_paper_lines import read_csv
from test_report import LN2, save_run_config, write_run

from opencompass_llmcompression import load_corpus, summary_cli
from opencompass_llmcompression.core.scoring_loop import score_documents
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.corpus import build as builder

SETTINGS = MeasurementSettings(block_size=64, stride=32)


def build(root, name, texts, month=None):
    """A text corpus built by llmcompression-corpus from records dated in ``month`` (none
    dated when None)."""
    records = os.path.join(root, f'{name}.records.jsonl')
    os.makedirs(root, exist_ok=True)
    with open(records, 'w') as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({'text': text, **({'date': f'{month}-{1 + i:02d}'} if month else {})}) + '\n')
    builder.build(
        name, 'text', [], os.path.join(root, 'corpora'), records=[records], date_field='date', min_chars=100
    )
    return os.path.join(root, 'corpora')


def dataset(path, name):
    return dict(type='opencompass_llmcompression.CompressionCorpusDataset', abbr=name, path=path, name=name)


def result(bpc, chars=10_000):
    return dict(
        bpc=bpc,
        bpb=bpc,
        nll=bpc * chars * LN2,
        chars=chars,
        tokens=chars // 4,
        bytes=chars,
        ppl=2.0,
        measurement=SETTINGS.as_record(),
    )


def measured(model, tokenizer, contents):
    """The BPC of ``contents`` under ``model``, windows of 64 tokens."""
    nll, _ = score_documents(
        model, tokenizer, contents, list(range(len(contents))), SETTINGS, batch_size=16, progress=False
    )
    return float(nll.sum() / (sum(map(len, contents)) * LN2))


def fine_tuned(folder, contents, tokenizer, steps=4):
    """The model of ``folder`` after ``steps`` of AdamW on random 65-token pieces of ``contents``."""
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM.from_pretrained(folder)
    ids = torch.tensor(tokenizer('\n'.join(contents))['input_ids'])
    generator = torch.Generator().manual_seed(0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-2)
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(ids) - 65, (2,), generator=generator)
        batch = torch.stack([ids[s : s + 65] for s in starts])
        model(batch, labels=batch).loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    return model.eval()


def test_a_model_trained_on_the_older_text_is_flagged_and_its_peers_are_not(tmp_path, capsys):
    from transformers import AutoTokenizer, LlamaForCausalLM

    texts = [t for t in real_documents('text', 40, 800) if len(t) > 250]
    root = str(tmp_path / 'data')
    path = build(root, 'web_2025_01', texts[:6], '2025-01')
    build(root, 'web_2026_01', texts[6:12], '2026-01')
    older = [d['content'] for d in load_corpus(path, 'web_2025_01')]
    newest = [d['content'] for d in load_corpus(path, 'web_2026_01')]
    folder = make_tiny_model(str(tmp_path / 'base'), context=256, hidden=32, layers=1)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    models, base = {}, LlamaForCausalLM.from_pretrained(folder).eval()
    head = base.lm_head.weight.detach().clone()
    results = {}
    for scale in (0.3, 0.5, 0.7, 1.0):  # never saw either text: sharper or flatter at random
        with torch.no_grad():
            base.lm_head.weight.copy_(head * scale)
        models[f'peer-{scale}'] = base
        results[f'peer-{scale}'] = {
            'web_2025_01': result(measured(base, tokenizer, older)),
            'web_2026_01': result(measured(base, tokenizer, newest)),
        }
    reader = fine_tuned(folder, older, tokenizer)
    models['read-the-older'] = reader
    results['read-the-older'] = {
        'web_2025_01': result(measured(reader, tokenizer, older)),
        'web_2026_01': result(measured(reader, tokenizer, newest)),
    }
    run = write_run(tmp_path / 'run', results)
    save_run_config(
        run,
        [dataset(path, 'web_2025_01'), dataset(path, 'web_2026_01')],
        [dict(abbr=m, path=m) for m in models],
    )
    out = tmp_path / 'out'
    assert (
        summary_cli.main([run, '--out', str(out), '--documents', '0', '--resamples', '0', '--no-baselines'])
        == 0
    )
    printed = capsys.readouterr().out

    checks = {row['model']: row for row in read_csv(out, 'compression_memorization_')}
    assert set(checks) == set(models)
    assert [m for m, row in checks.items() if row['flag']] == ['read-the-older']
    flagged = checks['read-the-older']
    assert (flagged['older'], flagged['newest'], flagged['others']) == ('web_2025_01', 'web_2026_01', '4')
    # the interval, recomputed here: the line through the four others, t with 2 degrees of freedom
    from test_paper_lines import textbook_prediction

    others = [m for m in models if m != 'read-the-older']
    xs = [results[m]['web_2026_01']['bpc'] for m in others]
    ys = [results[m]['web_2025_01']['bpc'] for m in others]
    want = np.array(textbook_prediction(xs, ys, results['read-the-older']['web_2026_01']['bpc']))
    assert [float(flagged[k]) for k in ('predicted_older', 'pi_low', 'pi_high')] == pytest.approx(
        want, abs=1e-6
    )
    assert float(flagged['bpc_older']) < want[1]

    over = read_csv(out, 'compression_over_time_')
    assert list(over[0]) == ['kind', 'corpus', 'first', 'last', 'model', 'bpc'] and len(over) == 10
    assert (
        '| model | 2025-01-01 to 2025-01-06 (web_2025_01) | 2026-01-01 to 2026-01-06 (web_2026_01) |'
        in printed
    )
    assert 'topics drift' in printed
    (plot,) = [f for f in os.listdir(out) if f.startswith('compression_periods_')]
    assert os.path.getsize(out / plot) > 10_000


def test_overlapping_undated_and_unshared_periods_are_named(tmp_path, capsys):
    texts = [t for t in real_documents('text', 40, 800) if len(t) > 250]
    root = str(tmp_path / 'data')
    path = build(root, 'a', texts[:3], '2025-01')
    build(root, 'b', texts[3:6], '2025-01')  # the same month as a
    build(root, 'undated', texts[6:9])
    results = {
        f'm{i}': {'a': result(1.0 + i / 10), 'b': result(1.1 + i / 10), 'undated': result(1.2)}
        for i in range(5)
    }
    run = write_run(tmp_path / 'run', results)
    save_run_config(
        run, [dataset(path, n) for n in ('a', 'b', 'undated')], [dict(abbr=m, path=m) for m in results]
    )
    assert summary_cli.main([run, '--out', str(tmp_path / 'o'), '--documents', '0', '--resamples', '0']) == 0
    printed = capsys.readouterr().out.replace('\n', ' ')
    assert '- undated: left out of the text corpora over time: no dated document' in printed
    assert (
        '- no text corpora over time: a (2025-01-01 to 2025-01-03) and b (2025-01-01 to 2025-01-03) overlap. '
        'Build one corpus per period' in printed
    )

    build(root, 'c', texts[9:12], '2026-01')
    unshared = {f'm{i}': {'a': result(1.0 + i / 10)} for i in range(5)}
    unshared.update({f'n{i}': {'c': result(1.0 + i / 10)} for i in range(5)})
    run = write_run(tmp_path / 'run2', unshared)
    save_run_config(run, [dataset(path, n) for n in ('a', 'c')], [dict(abbr=m, path=m) for m in unshared])
    assert summary_cli.main([run, '--out', str(tmp_path / 'o2'), '--documents', '0', '--resamples', '0']) == 0
    printed = capsys.readouterr().out.replace('\n', ' ')
    assert (
        '- a (2025-01-01 to 2025-01-03) against c (2026-01-01 to 2026-01-03): no model(s) measured on both; '
        'the check needs at least 4: measure the same models on every period' in printed
    )
    assert '| m0 | 1.0000 | - |' in printed  # the table still shows what there is

    other = dict(result(1.0), measurement=MeasurementSettings(block_size=128, stride=64).as_record())
    mixed = {f'm{i}': {'a': result(1.0 + i / 10), 'c': other} for i in range(5)}
    run = write_run(tmp_path / 'run3', mixed)
    save_run_config(run, [dataset(path, n) for n in ('a', 'c')], [dict(abbr=m, path=m) for m in mixed])
    assert summary_cli.main([run, '--out', str(tmp_path / 'o3'), '--documents', '0', '--resamples', '0']) == 0
    printed = capsys.readouterr().out.replace('\n', ' ')
    assert (
        '- no text corpora over time: a was measured with block_size=64, stride=32, reference_compat=False, '
        'c with block_size=128, stride=64, reference_compat=False; BPCs of different windows are not compared'
    ) in printed


def test_a_manifest_of_another_shape_leaves_the_kind_unknown_without_a_crash(tmp_path):
    from opencompass_llmcompression.report.corpus_periods import corpus_info

    folder = tmp_path / 'c'
    folder.mkdir()
    (folder / 'x.jsonl').write_text('{"content": "a"}\n')
    for manifest, problem in (
        ('{"settings": ["text"], "period": "2026"}', 'no dated document'),
        ('[1, 2]', 'cannot be read'),
        ('{"settings": {"kind": "text"}, "period": {"first": null, "last": null}}', 'no dated document'),
    ):
        (folder / 'x.manifest.json').write_text(manifest)
        info = corpus_info('x', dict(path=str(folder), name='x'))
        assert info.period is None and problem in info.problem, manifest
    assert info.kind == 'text' and info.area == 'knowledge'
