#!/usr/bin/env bash
# Quickstart command 1: install what is missing, build kiln in Release and run
# the main job (`kiln train` with the default config). Extra arguments go to
# `kiln train`, e.g. scripts/train.sh optimizer=sgd optimizer.lr=0.1
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target kiln
exec build/release/kiln train "$@"
