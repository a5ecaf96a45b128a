#!/usr/bin/env bash
# The main job's wall time and accuracy against the issue's targets: `kiln
# train` with no arguments reaches >= 91% test accuracy in < 180 s on the
# 2-core reference machine. Run it on an otherwise idle machine.
#
# usage: bench/main_job.sh [KILN_BINARY]     (default: build/release/kiln)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kiln="$(realpath "${1:-$root/build/release/kiln}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
start=$(date +%s.%N)
KILN_PROGRESS=plain "$kiln" train >stdout.txt 2>stderr.txt
end=$(date +%s.%N)
accuracy="$(sed -n 's/^test\/acc *\([0-9.]*\)$/\1/p' stdout.txt)"
awk -v s="$start" -v e="$end" -v a="$accuracy" -v n="$(nproc)" 'BEGIN {
  t = e - s
  printf "main job (kiln train, %d cores): %.1f s wall, test/acc %s\n", n, t, a
  printf "  time      %.1f s / 180 s target = %.2f  %s\n", t, t / 180, (t < 180 ? "PASS" : "MISS")
  printf "  accuracy  %s / 0.91 target      %s\n", a, (a >= 0.91 ? "PASS" : "MISS")
}'
