#!/usr/bin/env bash
# Tracking benchmark: mlledger beside MLflow (own venv, `mlflow server`), one Postgres.
#   bench/tracking/run.sh
#   bench/tracking/run.sh --mlflow-calls 2000 --mlflow-durable 2000
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap --mlflow  # .venv-mlflow: mlflow 3.17.2 (with psycopg 3) from requirements/mlflow.lock
eval "$(scripts/services.sh start)"
VENV=.venv-mlflow
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/tracking/run.py --mlflow-venv $VENV --admin-url "$ADMIN_URL" "$@"
