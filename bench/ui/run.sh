#!/usr/bin/env bash
# The explorer's first render of a 2,000-node neighbourhood in headless Chromium.
#   bench/ui/run.sh [--runs 1000] [--repeat 7]
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bootstrap
command -v chromium >/dev/null || apt-get install -y -q chromium >/dev/null
exec .venv/bin/python bench/ui/render.py "$@"
