#!/usr/bin/env bash
# Lineage benchmark: mlledger beside MLMD 1.17.1, both on the project's test Postgres.
#   bench/lineage/run.sh                         # 6k and 60k nodes on both
#   bench/lineage/run.sh --sizes 6000,60000,1000000 --mlmd-max 60000
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
eval "$(scripts/services.sh start)"
VENV=bench/.venv-mlmd
[ -x $VENV/bin/python ] || python3.11 -m venv $VENV
$VENV/bin/python -m pip install -q --disable-pip-version-check --no-deps -r bench/lineage/mlmd.lock
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/lineage/run.py --mlmd-python $VENV/bin/python --admin-url "$ADMIN_URL" "$@"
