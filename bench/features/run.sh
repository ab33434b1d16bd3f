#!/usr/bin/env bash
# Online feature serving: mlledger over HTTP beside Feast 0.67's SDK and `feast serve`,
# same Redis, same registry, same data.
#   bench/features/run.sh [--requests 300]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
eval "$(scripts/services.sh start)"
exec .venv/bin/python bench/features/run.py \
  --database-url "${MLLEDGER_TEST_DATABASE_URL%/*}/mlledger_bench" \
  --admin-url "${MLLEDGER_TEST_DATABASE_URL%/*}/postgres" \
  --redis-url "$MLLEDGER_TEST_REDIS_URL" "$@"
