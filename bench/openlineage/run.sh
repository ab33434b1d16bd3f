#!/usr/bin/env bash
# OpenLineage ingestion and impact queries on a real Postgres: bench/openlineage/run.py.
#   bench/openlineage/run.sh [--datasets 100000] [--clients 1,4] [--batches 1,100] [--rounds 100]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
eval "$(scripts/services.sh start)"
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/openlineage/run.py --admin-url "$ADMIN_URL" "$@"
