#!/usr/bin/env bash
# Opens a report's index.html in headless Chromium (Debian's chromium package, driven by
# playwright-core) and fails on console errors, failed loads or charts that do not decode.
# Installs chromium and playwright-core when missing. Usage: bench/check_report_html.sh DIR_OR_PAGE.html
set -euo pipefail
dir=${1:?usage: $0 REPORT_DIR}
here="$(cd "$(dirname "$0")" && pwd)"
[ -x /usr/bin/chromium ] || apt-get install -y chromium >/dev/null
[ -d "$here/html-check/node_modules/playwright-core" ] ||
  (cd "$here/html-check" && npm install --silent --no-audit --no-fund)
exec node "$here/html-check/check.mjs" "$dir"
