#!/usr/bin/env bash
# Run search at 100k and 1M runs on the project's Postgres: bench/search/run.py.
#   bench/search/run.sh [--sizes 100000,1000000] [--rounds 20] [--explain]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
eval "$(scripts/services.sh start)"
ADMIN_URL=${MLLEDGER_TEST_DATABASE_URL%/*}/postgres
exec .venv/bin/python bench/search/run.py --admin-url "$ADMIN_URL" "$@"
