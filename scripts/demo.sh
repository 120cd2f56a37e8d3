#!/usr/bin/env bash
# The main job on its embedded default: SmolLM2-135M on sample corpora of Python code, English
# prose and LaTeX mathematics, through the OpenCompass command line. Extra arguments go to
# `python -m opencompass_llmcompression.demo` (e.g. --hf-path DIR for your own model). The
# default run writes what it measured, with its time, into docs/demo_record.json and the
# README's demo block (--record).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
if [ -x .venv/bin/python ]; then export LLMCOMPRESSION_DEMO_NEW_VENV=0; else export LLMCOMPRESSION_DEMO_NEW_VENV=1; fi
bash scripts/setup.sh
export LLMCOMPRESSION_DEMO_SETUP_S=$((SECONDS - start))
exec .venv/bin/python -m opencompass_llmcompression.demo --record . "$@"
