#!/usr/bin/env bash
# Fails when any C++ source differs from .clang-format; `--fix` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find include src tests bench fuzz -name '*.h' -o -name '*.cpp' | sort)
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files formatted"
