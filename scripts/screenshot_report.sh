#!/usr/bin/env bash
# Render a `contrastomics cluster` report.html in headless Chromium and save a PNG screenshot,
# to check that the self-contained report draws offline (no network is allowed to the browser).
#
# usage: scripts/screenshot_report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
# needs: Debian package `chromium` (apt-get update && apt-get install -y chromium)
set -euo pipefail
report=${1:?usage: scripts/screenshot_report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]}
out=${2:-${report%.html}.png}
size=${3:-1400x1800}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$browser" ]]; then
  echo "error: chromium not found; install it with: apt-get update && apt-get install -y chromium" >&2
  exit 2
fi
[[ -f "$report" ]] || { echo "error: $report: file not found" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# --virtual-time-budget lets plotly finish drawing before the screenshot is taken
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --user-data-dir="$profile" --hide-scrollbars --window-size="${size/x/,}" \
  --virtual-time-budget=15000 --screenshot="$out_abs" "file://$abs" >/dev/null 2>&1 || true
[[ -s "$out_abs" ]] || { echo "error: chromium wrote no screenshot" >&2; exit 1; }
echo "wrote $out_abs"
