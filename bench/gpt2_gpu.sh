#!/usr/bin/env bash
# GPT-2 124M on the GPU machine, three ways in one run (issue #6): kiln
# (kiln_gpt2_train_bench), the same model and hyper-parameters as an eager
# PyTorch script (bench/gpt2_torch.py), and that script under torch.compile.
# Same model, the same synthetic tokens bit for bit, AdamW (0.9, 0.95) with
# weight decay 0.1 on matrices, constant lr 6e-4, clipping at 1.0, bf16 autocast,
# sequence 1024, a fixed number of timed steps after warm-up.
#
# usage: bench/gpt2_gpu.sh [--batch 16] [--steps 50] [--warmup 10] [--model gpt2]
#   PYTHON=/opt/torch/.venv/bin/python3 (default: that, else python3)
#   BUILD=build/gpu                      (kiln built against that Python's torch)
#
# Prints a table: tokens/s, ms/step, MFU against the H100 SXM's 989 TFLOP/s
# bf16 dense peak and against the matrix-product ceiling measured in the
# same run, peak memory, the loss after the fixed steps, and the time from
# start to the end of the first step. Copy it into bench/RESULTS.md with the
# date, GPU, driver, torch version and this command line.
set -euo pipefail
cd "$(dirname "$0")/.."

batch=16 steps=50 warmup=10 model=gpt2
while [ $# -gt 0 ]; do
  case "$1" in
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "gpt2_gpu.sh: unknown argument '$1' (see the header of bench/gpt2_gpu.sh)" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-/opt/torch/.venv/bin/python3}
[ -x "$python" ] || python=python3
build=${BUILD:-build/gpu}

echo "# $(date -u +%Y-%m-%dT%H:%MZ)  $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
echo "# torch $("$python" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)')"
echo "# bench/gpt2_gpu.sh --batch $batch --steps $steps --warmup $warmup --model $model"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')" >/dev/null
cmake --build "$build" --target kiln_gpt2_train_bench

# The bf16 matrix-product ceiling of this GPU, now: 8192^3 products.
ceiling=$("$python" - <<'PY'
import time, torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
for _ in range(3): a @ b
torch.cuda.synchronize(); t = time.perf_counter()
for _ in range(10): a @ b
torch.cuda.synchronize()
print(2 * 8192**3 * 10 / (time.perf_counter() - t))
PY
)

common=(--model "$model" --batch "$batch" --steps "$steps" --warmup "$warmup")
lines=()
lines+=("$("$build/bench/kiln_gpt2_train_bench" "${common[@]}" --accelerator cuda --precision bf16-mixed | grep '^impl=')")
lines+=("$("$python" bench/gpt2_torch.py "${common[@]}" --device cuda --precision bf16-mixed | grep '^impl=')")
lines+=("$("$python" bench/gpt2_torch.py "${common[@]}" --device cuda --precision bf16-mixed --compile | grep '^impl=')")

printf '%s\n' "${lines[@]}" | "$python" bench/gpt2_table.py "$ceiling"
