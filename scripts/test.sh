#!/usr/bin/env bash
# The whole test suite (including the OpenCompass command-line runs), after the same set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
