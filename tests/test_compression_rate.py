"""uncheatable_eval's compression rate (the compressed size in percent of the UTF-8 bytes,
bpb / 8 * 100) as a leaderboard beside BPC and BPB, worked by hand."""

import os
import re

import pytest
from test_intervals import bootstrap_ratio_interval
from test_report import LN2, compression, documents_of, write_run

from opencompass_llmcompression import summary_cli
from opencompass_llmcompression.report.leaderboard import leaderboard
from opencompass_llmcompression.report.writer import ReportOptions


def test_the_rate_is_bpb_in_percent_of_a_byte():
    results = {'a': {'x-cc': compression(1.0), 'x-py': compression(0.5)}}  # bpb 0.9 and 0.45
    _, rows = leaderboard(results, ['x-cc', 'x-py'], metric='compression_rate')
    assert rows == [['a', '11.2500', '5.6250', '8.4375']]  # 0.9 / 8 * 100, 0.45 / 8 * 100, their mean
    baselines = {'x-cc': {'xz -9e': dict(bpc=2.0, bpb=1.6)}, 'x-py': {'xz -9e': dict(bpc=2.0, bpb=2.4)}}
    _, rows = leaderboard(results, ['x-cc', 'x-py'], 'compression_rate', baselines=baselines)
    assert rows[-1] == ['(xz -9e)', '20.0000', '30.0000', '25.0000']


def test_the_summary_writes_it_when_asked(tmp_path, capsys):
    spread = [0.5, 0.55, 0.6, 0.65, 0.7, 0.62, 0.58, 0.66]
    rows, result = documents_of(spread)  # one byte per character: bpb = bpc
    run = write_run(
        tmp_path / 'run', {'m': {'llm_compression-cc': result}}, {('m', 'llm_compression-cc.json'): rows}
    )
    out = tmp_path / 'out'
    assert summary_cli.main([run, '--out', str(out), '--documents', '0', '--no-baselines']) == 0
    assert 'Compression rate' not in capsys.readouterr().out
    assert not [f for f in os.listdir(out) if f.startswith('compression_rate_')]
    assert (
        summary_cli.main([run, '--out', str(out), '--documents', '0', '--compression-rate', '--no-baselines'])
        == 0
    )
    printed = capsys.readouterr().out
    interval = bootstrap_ratio_interval([b * 200 * LN2 for b in spread], [200] * len(spread))
    rate = sum(spread) / len(spread) / 8 * 100
    assert '## Compression rate, % of the UTF-8 bytes' in printed
    row = re.search(r'\| m \| ([\d.]+) ± ([\d.]+) \|', printed.split('## Compression rate')[1])
    assert float(row.group(1)) == pytest.approx(rate, abs=1e-4)  # 7.59375
    assert row.group(2) == f'{12.5 * (interval.high - interval.low) / 2:.2g}'
    (csv,) = [f for f in os.listdir(out) if f.startswith('compression_rate_')]
    lines = (out / csv).read_text().splitlines()
    assert lines[0].startswith(
        'model,corpus,compression_rate,compression_rate_ci_low,compression_rate_ci_high,'
    )
    assert lines[1].startswith(
        f'm,llm_compression-cc,{rate:.6f},{12.5 * interval.low:.6f},{12.5 * interval.high:.6f},'
    )


def test_an_unknown_metric_is_named():
    with pytest.raises(ValueError, match='bpc, bpb, compression_rate'):
        ReportOptions(metrics=('bpc', 'ratio'))
