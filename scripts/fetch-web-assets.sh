#!/usr/bin/env bash
# Fetch the dashboard's front-end assets from the npm registry and vendor them into
# src/shopguard/web/static/vendor/ (no CDN at run time, no build step).
# The vendored files are committed so the package works offline; re-run this to update them.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/src/shopguard/web/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent htmx.org@2 @picocss/pico@2 >/dev/null
mkdir -p htmx pico "$dest"
tar -xzf htmx.org-*.tgz -C htmx
tar -xzf picocss-pico-*.tgz -C pico
cp htmx/package/dist/htmx.min.js "$dest/htmx.min.js"
cp htmx/package/LICENSE "$dest/htmx.LICENSE"
cp pico/package/css/pico.min.css "$dest/pico.min.css"
cp pico/package/LICENSE.md "$dest/pico.LICENSE"
{
  echo "Vendored front-end assets (fetched by scripts/fetch-web-assets.sh from the npm registry)"
  echo
  echo "htmx.min.js   htmx.org $(node -p "require('$tmp/htmx/package/package.json').version" 2>/dev/null || echo '2.x')  licence: BSD-2-Clause (htmx.LICENSE)"
  echo "pico.min.css  @picocss/pico $(node -p "require('$tmp/pico/package/package.json').version" 2>/dev/null || echo '2.x')  licence: MIT (pico.LICENSE)"
} > "$dest/LICENSES.txt"
echo "vendored into $dest"
