#!/usr/bin/env bash
# The main job on its embedded default: SmolLM2-135M on sample corpora of Python code, English
# prose and LaTeX mathematics, through the OpenCompass command line. Extra arguments go to
# `python -m opencompass_llmcompression.demo` (e.g. --hf-path DIR for your own model).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m opencompass_llmcompression.demo "$@"
