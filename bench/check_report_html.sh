#!/usr/bin/env bash
# Opens a report page in headless Chromium (Debian's chromium package, driven by playwright-core)
# and fails on console errors, failed loads, charts that do not decode, links to missing files
# or overlapping text labels inside a chart. --shots DIR saves a full-page PNG of the page and
# one PNG per chart there. Installs chromium and playwright-core when missing.
# Usage: bench/check_report_html.sh DIR_OR_PAGE.html [--shots DIR]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR_OR_PAGE.html [--shots DIR]" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
[ -x /usr/bin/chromium ] || apt-get install -y chromium >/dev/null
[ -d "$here/html-check/node_modules/playwright-core" ] ||
  (cd "$here/html-check" && npm install --silent --no-audit --no-fund)
exec node "$here/html-check/check.mjs" "$@"
