#!/usr/bin/env bash
# `make demo`: start the bundled demo shop on 127.0.0.1, audit it, print the
# litmus table, write an HTML report, stop the shop.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# Keep the demo's findings apart from any real stores you audit.
export SHOPGUARD_HOME="${SHOPGUARD_HOME:-$PWD/demo/run/home}"
REPORT="$PWD/reports/demo-report.html"

"$BIN/python" demo/run.py stop >/dev/null 2>&1 || true
"$BIN/python" demo/run.py start
trap '"$BIN/python" demo/run.py stop' EXIT

echo
echo "Auditing the demo shop (it is weak on purpose: see demo/README.md)..."
set +e
"$BIN/shopguard" audit --config demo/shopguard.toml --fail-on never
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "shopguard audit failed with exit code $rc" >&2
  exit "$rc"
fi
"$BIN/shopguard" report --config demo/shopguard.toml --format html --output "$REPORT"
echo
echo "HTML report: $REPORT"
echo "Open it in a browser, e.g.: xdg-open '$REPORT'"
