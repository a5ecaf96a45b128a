#!/usr/bin/env bash
# The dashboard end to end in a real browser: trains two tiny real runs
# (base: lr 0.001, fast: lr 0.003), serves them with `kiln ui --port 0`, and
# drives Debian's chromium headless with playwright-core
# (tests/e2e/ui/dashboard.test.mjs says what it checks).
#
# usage: ui_dashboard.sh KILN_BINARY BUILD_DIR
#   BUILD_DIR/ui-e2e-node gets playwright-core from `npm ci` (tests/e2e/ui/package-lock.json).
#   KILN_UI_SCREENSHOT=PATH also saves a PNG of the run page (docs/images/dashboard.png).
# Exit 77 (ctest: skipped) only when chromium or node/npm is not installed;
# scripts/install-deps.sh installs both.
set -euo pipefail
kiln="$(realpath "$1")"
build="$(realpath "$2")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
chromium="${KILN_CHROMIUM:-/usr/bin/chromium}"
# The test runs in a temp dir: a relative screenshot path means from here.
if [[ -n "${KILN_UI_SCREENSHOT:-}" ]]; then export KILN_UI_SCREENSHOT="$(realpath -m "$KILN_UI_SCREENSHOT")"; fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"; exit 77; }
done
[[ -x "$chromium" ]] || { echo "SKIP: no browser at $chromium (apt-get install chromium)"; exit 77; }

work="$(mktemp -d)"
ui_pid=""
cleanup() {
  if [[ -n "$ui_pid" ]]; then kill "$ui_pid" 2>/dev/null || true; wait "$ui_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# playwright-core, once per lock file: npm ci is skipped while the copy of
# the lock it installed from is unchanged.
node_dir="$build/ui-e2e-node"
if ! cmp -s "$here/ui/package-lock.json" "$node_dir/package-lock.json" ||
   [[ ! -f "$node_dir/node_modules/playwright-core/package.json" ]]; then
  mkdir -p "$node_dir"
  cp "$here/ui/package.json" "$here/ui/package-lock.json" "$node_dir/"
  npm ci --prefix "$node_dir" --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# train_points: limit_train_batches with log_every_n_steps=1 logs one
# train/loss point per batch, which the run page must draw, all of them.
train_points=12
cd "$work"
train() {
  local name="$1" lr="$2"
  KILN_PROGRESS=plain "$kiln" train model=mlp trainer.max_epochs=1 trainer.limit_train_batches=$train_points \
    trainer.limit_val_batches=2 trainer.limit_test_batches=2 trainer.num_sanity_val_steps=0 data.num_workers=0 \
    trainer.log_every_n_steps=1 run.name="$name" optimizer.lr="$lr" >"train-$name.log" 2>&1 || {
    echo "kiln train $name failed:"; tail -20 "train-$name.log"; exit 1
  }
}
train base 0.001
train fast 0.003

"$kiln" ui --port 0 --store "$work/runs/kiln.db" >ui.log 2>&1 &
ui_pid=$!
url=""
for _ in $(seq 100); do
  url="$(sed -n 's/^kiln ui: serving .* at \(http:[^ ]*\)$/\1/p' ui.log)"
  [[ -n "$url" ]] && break
  kill -0 "$ui_pid" 2>/dev/null || { echo "kiln ui exited:"; cat ui.log; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "kiln ui printed no URL within 10 s:"; cat ui.log; exit 1; }
echo "kiln ui at $url"

KILN_UI_URL="$url" KILN_UI_NODE_MODULES="$node_dir/node_modules" KILN_CHROMIUM="$chromium" \
  KILN_UI_TRAIN_POINTS=$train_points node "$here/ui/dashboard.test.mjs" || {
  echo "--- kiln ui log"; cat ui.log; exit 1
}
