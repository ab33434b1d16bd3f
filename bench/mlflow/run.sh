#!/usr/bin/env bash
# The same MLflow client against `mlflow server` and mlledger on one Postgres: bench/mlflow/run.py.
#   bench/mlflow/run.sh [--rounds 10] [--megabytes 200]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap --mlflow  # .venv-mlflow: mlflow 3.17.2 (with psycopg 3) from requirements/mlflow.lock
eval "$(scripts/services.sh start)"
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/mlflow/run.py --admin-url "$ADMIN_URL" --mlflow-venv .venv-mlflow "$@"
