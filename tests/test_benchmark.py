"""The inference benchmark runs on the CPU with a random model of a real shape, and its
methods agree on the BPC (the paper's loop sums in fp32 on the CPU, ours in float64)."""

import os
import re
import subprocess
import sys

import pytest
from conftest import smollm2_tokenizer_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow  # over 10 s on 2 cores
def test_benchmark_table_on_the_cpu(tmp_path):
    out = tmp_path / 'table.md'
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'benchmarks', 'bench_inference.py'),
            '--model-shape',
            'smollm2-135m',
            '--tokenizer',
            smollm2_tokenizer_dir(),
            '--device',
            'cpu',
            '--chars',
            '1500',
            '--block-size',
            '64',
            '--stride',
            '16',
            '--batch-size',
            '3',
            '--out',
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [
        line.split('|')[1:-1]
        for line in out.read_text().splitlines()
        if re.match(r'\| (ours|ours-auto|paper) \|', line)
    ]
    assert [r[0].strip() for r in rows] == ['ours', 'ours-auto', 'paper']
    assert [r[1].strip() for r in rows] == ['3', '4', '3']  # auto: the CPU's fixed size
    bpcs = [float(r[-1]) for r in rows]
    assert bpcs[1] == pytest.approx(bpcs[0], rel=1e-6)
    assert bpcs[2] == pytest.approx(bpcs[0], rel=1e-5)
    assert 'windows/s' in out.read_text() and 'MFU' in out.read_text()
