"""OpenCompass's ``--accelerator vllm`` on the plugin's suite, as far as an environment with
OpenCompass goes (vLLM cannot be installed beside OpenCompass 0.5.4: docs/engines.md). A dry
run of the real command line, its written config read back: OpenCompass turns the Hugging Face
model into its ``VLLM`` model with ``tensor_parallel_size`` from ``--hf-num-gpus`` (0 on a
CPU, which vLLM refuses: why docs/engines.md says to write the config) and ``max_model_len``
from ``--max-seq-len``; the compression datasets keep the plugin's inferencer, which takes the
engine of such a model (tests/test_batching.py, tests/test_vllm.py)."""

import glob
import os
import subprocess

import pytest
from opencompass_runs import cli, opencompass_env

pytestmark = pytest.mark.cli


def test_accelerator_vllm_makes_opencompass_vllm_model_config(tiny_model_dir, corpus_root, tmp_path):
    from mmengine.config import Config

    cwd = tmp_path / 'run'
    cwd.mkdir()
    os.symlink(os.path.join(os.path.dirname(os.path.dirname(__file__)), 'configs'), cwd / 'configs')
    args = cli(tiny_model_dir, '--accelerator', 'vllm', '--max-seq-len', '2048', '--dry-run')
    done = subprocess.run(args, cwd=cwd, env=opencompass_env(corpus_root), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (written,) = glob.glob(str(cwd / 'work' / '*' / 'configs' / '*.py'))
    config = Config.fromfile(written)
    (model,) = config['models']
    assert model['type'] == 'opencompass.models.vllm.VLLM'
    assert model['path'] == tiny_model_dir
    assert model['model_kwargs']['tensor_parallel_size'] == 0  # --hf-num-gpus 0
    assert model['model_kwargs']['max_model_len'] == 2048
    assert sorted(d['abbr'] for d in config['datasets']) == [
        'llm_compression-arxiv_math',
        'llm_compression-cc',
        'llm_compression-python',
    ]
    for dataset in config['datasets']:
        inferencer = dataset['infer_cfg']['inferencer']['type']
        assert inferencer.endswith('SlidingWindowPPLInferencer'), inferencer
