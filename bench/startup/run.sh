#!/usr/bin/env bash
# Start-up and CLI latency: `mlledger serve` (embedded default) to its first healthy answer,
# beside `mlflow server` (SQLite, from bench/.venv-mlflow), and a few client commands of each.
#   bench/startup/run.sh [--rounds 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
VENV=bench/.venv-mlflow
[ -x $VENV/bin/python ] || python3.11 -m venv $VENV
# Bytecode compiled for both, as scripts/bootstrap does for mlledger: timing the compiler of
# either would say nothing about its start-up.
.venv/bin/uv pip sync -q --compile-bytecode --python $VENV/bin/python bench/tracking/mlflow.lock
exec .venv/bin/python bench/startup/run.py --mlflow-venv $VENV "$@"
