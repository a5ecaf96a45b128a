#!/usr/bin/env bash
# Builds kiln's libFuzzer targets (fuzz/) with clang, ASan and UBSan, and runs
# each for a bounded time. Exits non-zero when any target finds a crash, a
# sanitizer report, a leak, a hang or a broken round trip.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target, default 30;
#                                             TARGET defaults to every fuzz target
#
# Environment: KILN_FUZZ_BUILD_DIR (default build/fuzz), KILN_FUZZ_JOBS (build
# parallelism, default 2), KILN_FUZZ_SEED (libFuzzer's -seed; the test suite
# fixes it so its short run explores the same inputs every time).
#
# Exit status: 0 no crashes; 1 a target failed; 2 bad argument or the build
# failed; 77 skipped because clang or cmake is missing.
#
# Each target starts from its committed seed corpus fuzz/corpus/<name>/ (with
# the _fuzz suffix dropped), copied into a temporary working corpus so the
# committed one never changes. Crashing inputs land in
# build/fuzz/artifacts/<target>/; after fixing the bug, copy the input into the
# seed corpus as a regression (see docs/testing.md).
set -euo pipefail

seconds="${1:-30}"
shift || true
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SECONDS must be a positive whole number, found '$seconds'" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_FUZZ_BUILD_DIR:-$root/build/fuzz}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(yaml_fuzz override_fuzz compose_fuzz)
fi

for tool in clang clang++ cmake; do
  if ! command -v "$tool" >/dev/null; then
    # 77: ctest's SKIP_RETURN_CODE, so a machine without clang skips visibly.
    echo "fuzz.sh: skipped: '$tool' not found; libFuzzer needs clang (and libclang-rt-dev)" >&2
    exit 77
  fi
done

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi

# Debug keeps kiln's internal asserts on; -O1 keeps the fuzzer fast enough.
mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DKILN_FUZZ=ON -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCH=OFF -DKILN_WITH_TORCH=OFF >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 2
}
if ! cmake --build "$build" --target "${targets[@]}" -j "${KILN_FUZZ_JOBS:-2}"; then
  echo "fuzz.sh: building ${targets[*]} failed" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/kiln-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# halt_on_error: the first report is the crash; detect_leaks: a leak is a bug.
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
for target in "${targets[@]}"; do
  seeds="$root/fuzz/corpus/${target%_fuzz}"
  corpus="$work/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$seeds" ]; then cp -R "$seeds/." "$corpus/"; fi
  echo "== $target: ${seconds}s from $(ls "$corpus" | wc -l) seeds; crashes go to $artifacts/"
  # -timeout: one input running this long is a hang; -rss_limit_mb: a blow-up.
  if ! "$build/fuzz/$target" "$corpus" -max_total_time="$seconds" ${KILN_FUZZ_SEED:+-seed="$KILN_FUZZ_SEED"} -rss_limit_mb=2048 -timeout=25 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$work/$target.log" 2>&1; then
    tail -n 80 "$work/$target.log" >&2
    echo "== $target: FAILED (full log kept in $artifacts/fuzz.log)" >&2
    cp "$work/$target.log" "$artifacts/fuzz.log"
    failed+=("$target")
  else
    grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::new_units_added)' "$work/$target.log" || true
    echo "== $target: ok"
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: crashes found by: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: no crashes"
