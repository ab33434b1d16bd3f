#!/usr/bin/env bash
# Lineage benchmark: MLMD 1.17.1 beside mlledger (its REST API, and MLMD's own client over
# mlledger's MLMD gRPC listener), all on the project's test Postgres.
#   bench/lineage/run.sh                         # 6k and 60k nodes on all three
#   bench/lineage/run.sh --sizes 6000,60000,1000000 --mlmd-max 60000 --grpc-max 60000
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap --mlmd  # .venv-mlmd: MLMD's client from requirements/mlmd.lock
eval "$(scripts/services.sh start)"
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/lineage/run.py --mlmd-python .venv-mlmd/bin/python --admin-url "$ADMIN_URL" "$@"
