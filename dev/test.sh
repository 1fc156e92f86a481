#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a used one: installs what the tests need
# (Debian's golang-go, git, gcc and lcov, the reference tools; chromium for the HTML tests;
# covtool with its test extra in .venv), then runs ruff, mypy and pytest. Extra arguments go
# to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v lcov >/dev/null 2>&1 || missing+=(lcov)
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/mypy --strict bench  # the benchmark scripts: scripts, not a package
.venv/bin/python -m pytest "$@"
