#!/usr/bin/env bash
# /health latency while attackers send the costliest GraphQL the limits allow and 16 MiB
# bodies without a token, beside its idle latency (issue #13).
#   bench/abuse/run.sh [--nodes 6000] [--seconds 30]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
eval "$(scripts/services.sh start)"
exec .venv/bin/python bench/abuse/run.py --database "$MLLEDGER_TEST_DATABASE_URL" "$@"
