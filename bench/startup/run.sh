#!/usr/bin/env bash
# Start-up and CLI latency: `mlledger serve` (embedded default) to its first healthy answer,
# beside `mlflow server` (SQLite, from .venv-mlflow), and a few client commands of each.
#   bench/startup/run.sh [--rounds 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap --mlflow  # .venv-mlflow: mlflow 3.17.2 (with psycopg 3) from requirements/mlflow.lock
VENV=.venv-mlflow
exec .venv/bin/python bench/startup/run.py --mlflow-venv $VENV "$@"
