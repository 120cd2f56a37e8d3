"""The OpenCompass command line through a real Slurm cluster: `--slurm -p PARTITION`.

A single-node cluster is started on this machine from Debian's packages (installed first when
missing, see ``slurm_cluster.py``). OpenCompass's ``SlurmRunner`` then launches every task with
``srun``: the shards of the corpora and their evaluations run as Slurm jobs, and the numbers
must be those of one unsplit local run. The controller's job completion log is the witness
that Slurm ran them. Where Slurm cannot be installed or started, the test is skipped and the
reason printed, unless ``LLMCOMPRESSION_REQUIRE`` names slurm (scripts/test.sh's pass with
``--system``): then it fails with that reason.
"""

import os
import sys

import pytest
import slurm_cluster
from conftest import required
from opencompass_runs import CORPORA, cli, run_opencompass, same_as_unsplit

pytestmark = pytest.mark.slurm
WORKERS = 3


def _announce(request, text):
    """Print past pytest's output capture, so that a skip's reason is always seen."""
    capture = request.config.pluginmanager.getplugin('capturemanager')
    with capture.global_and_fixture_disabled():
        print(f'\n{text}', file=sys.stderr, flush=True)


@pytest.fixture(scope='module')
def cluster(request):
    try:
        slurm_cluster.install()
        with slurm_cluster.Cluster() as started:
            yield started
    except slurm_cluster.Unavailable as why:
        if required('slurm'):  # scripts/test.sh's --system pass exists for this test
            pytest.fail(f'no Slurm cluster, which LLMCOMPRESSION_REQUIRE asks for: {why}')
        _announce(request, f'test_slurm skipped, no Slurm cluster on this machine: {why}')
        pytest.skip(f'no Slurm cluster on this machine: {why}')


def test_shards_run_as_slurm_jobs_and_give_the_unsplit_numbers(
    cluster, unsplit, tiny_model_dir, corpus_root, tmp_path_factory, monkeypatch
):
    for name in list(os.environ):  # a surrounding Slurm job's variables would steer srun there
        if name.startswith(('SLURM_', 'SRUN_')):
            monkeypatch.delenv(name)
    monkeypatch.setenv('SLURM_CONF', cluster.conf)
    cwd = str(tmp_path_factory.mktemp('slurm'))
    split, run_dir, _ = run_opencompass(
        cli(tiny_model_dir, '--slurm', '-p', cluster.partition, '--max-num-workers', str(WORKERS)),
        cwd,
        corpus_root,
    )

    # Slurm ran each task once as its own job (named by OpenCompass after the task), on the
    # cluster's node, from the run's folder, to a clean exit: 3 inference tasks holding one
    # shard of each corpus, then one evaluation per corpus.
    jobs = cluster.finished_jobs()
    assert (
        sorted(j['Name'].split('[')[0] for j in jobs)
        == ['OpenICLEval'] * len(CORPORA) + ['OpenICLInfer'] * WORKERS
    ), cluster.logs()
    for job in jobs:
        assert (job['JobState'], job['ExitCode'], job['Partition'], job['NodeList'], job['WorkDir']) == (
            'COMPLETED',
            '0:0',
            cluster.partition,
            cluster.node,
            cwd,
        )
    shards = [
        pair.rsplit('/', 1)[1]
        for job in jobs
        if job['Name'].startswith('OpenICLInfer')
        for pair in job['Name'][len('OpenICLInfer[') : -1].split(',')
    ]
    assert sorted(shards) == sorted(f'llm_compression-{c}_{i}' for c in CORPORA for i in range(WORKERS))

    same_as_unsplit(split, run_dir, unsplit, WORKERS, ('bpc', 'bpb'))
