#!/usr/bin/env bash
# Data gate benchmarks (bench/README.md, "Validation").
#   bench/validation/run.sh stats   [--rows 1000000] [--repeat 2]   # statistics: time, peak memory
#   bench/validation/run.sh latency [--versions 30] [--rows 10000]  # submission -> verdict
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:?stats or latency}"; shift
scripts/bootstrap --validator
case "$what" in
  stats) exec .venv-validator/bin/python bench/validation/stats.py "$@" ;;
  latency)
    eval "$(scripts/services.sh start)"
    exec .venv/bin/python bench/validation/latency.py \
      --database-url "${MLLEDGER_TEST_DATABASE_URL%/*}/mlledger_bench_gates" \
      --admin-url "${MLLEDGER_TEST_DATABASE_URL%/*}/postgres" "$@" ;;
  *) echo "stats or latency" >&2; exit 2 ;;
esac
