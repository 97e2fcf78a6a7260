#!/usr/bin/env bash
# The whole test suite. PostgreSQL (127.0.0.1:5432, user postgres, database test) and Chromium are required:
# tests that need them fail rather than skip when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m pytest -n 2 "$@"
