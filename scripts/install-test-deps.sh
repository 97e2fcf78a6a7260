#!/usr/bin/env bash
# Everything the test suite needs on a fresh Debian machine: Python packages (pinned), Chromium for the
# browser tests, LibreOffice for reading exported workbooks, a Japanese font for screenshots and PDFs, and axe-core
# (npm, pinned, into .cache/axe) for the accessibility checks of the browser tests (issue 19).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s libreoffice-calc-nogui >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)   # soffice alone may lack Calc
# notices (issue 18): LibreOffice Writer converts the .docx notices to PDF, poppler's pdftoppm renders the pages
dpkg -s libreoffice-writer-nogui >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt
AXE_VERSION=4.14.1   # keep in step with tests/browser/axe.py
if ! grep -qs "\"version\": \"$AXE_VERSION\"" .cache/axe/node_modules/axe-core/package.json; then
  npm install --prefix .cache/axe --no-audit --no-fund --no-save --silent "axe-core@$AXE_VERSION"
fi
