#!/usr/bin/env bash
# Tracking benchmark: mlledger beside MLflow (own venv, `mlflow server`), one Postgres.
#   bench/tracking/run.sh
#   bench/tracking/run.sh --mlflow-calls 2000 --mlflow-durable 2000
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
eval "$(scripts/services.sh start)"
VENV=bench/.venv-mlflow
[ -x $VENV/bin/python ] || python3.11 -m venv $VENV
.venv/bin/uv pip sync -q --python $VENV/bin/python bench/tracking/mlflow.lock  # mlflow 3.17.2, psycopg 3
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/tracking/run.py --mlflow-venv $VENV --admin-url "$ADMIN_URL" "$@"
