#!/usr/bin/env bash
# Quickstart command 2 (and what CI runs): install what is missing, build
# everything and run the complete test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset test >/dev/null
cmake --build --preset test
ctest --preset test
