#!/usr/bin/env bash
# Run search at 100k and 1M runs: mlledger on Postgres and SQLite, beside MLflow 3.17.2 (its own
# venv from requirements/mlflow.lock, `mlflow server`) on the same Postgres: bench/search/run.py.
#   bench/search/run.sh [--sizes 100000,1000000] [--rounds 30] [--explain] [--reuse]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap --mlflow  # .venv-mlflow: mlflow 3.17.2 (with psycopg 3) from requirements/mlflow.lock
eval "$(scripts/services.sh start)"
VENV=.venv-mlflow
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/search/run.py --admin-url "$ADMIN_URL" --mlflow-venv $VENV "$@"
