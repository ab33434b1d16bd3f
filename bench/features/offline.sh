#!/usr/bin/env bash
# Point-in-time training sets: mlledger (DuckDB) beside Feast 0.67's Dask offline store.
#   bench/features/offline.sh [--scale 0.1] [--timeout 3600]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
exec .venv/bin/python bench/features/offline.py "$@"
