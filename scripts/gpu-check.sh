#!/usr/bin/env bash
# Everything in kiln that needs a CUDA GPU, in one pass, for a session that
# is lent the GPU machine (issues #3, #6, #7; /work/.library/device). No
# session has run it yet: the first one should expect to fix it as it goes.
# c10d: kiln issues collectives on c10d::Backend under torch 2.x
# (kiln/dist/c10d_compat.h), written from torch 2.x's headers but never
# compiled against them yet; NCCL is built when torch has CUDA.
#
#   scripts/gpu-check.sh [--skip-bench]
#
# 1. probe: the GPU, the torch to build against, the libraries kiln needs
#    (exit 3 naming what is missing: carry it, or install it, first);
# 2. build kiln against that torch (build/gpu, tests included);
# 3. the CUDA tests that skip on CPU machines (GPU_*, GpuTrainer.*);
# 4. kiln train on CUDA with bf16-mixed, then ZeRO-2 and ZeRO-3 over NCCL on
#    a group of one (issue #7: the NCCL path, world size 1);
# 5. bench/gpt2_gpu.sh (kiln against eager PyTorch and torch.compile).
# Each step's output goes to stdout and to $OUT (default gpu-check/) as a log.
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-/opt/torch/.venv/bin/python3}
[ -x "$python" ] || python=python3
out=${OUT:-gpu-check}
mkdir -p "$out"
skip_bench=false
[ "${1:-}" = "--skip-bench" ] && skip_bench=true

step() { echo; echo "## $*"; }
run() { "$@" 2>&1 | tee -a "$out/$log"; return "${PIPESTATUS[0]}"; }

log=probe.log
step "probe"
run nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
run "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
missing=()
for header in yaml-cpp/yaml.h sqlite3.h curl/curl.h zlib.h gtest/gtest.h; do
  echo '#include <'"$header"'>' | c++ -x c++ -fsyntax-only - 2>/dev/null || missing+=("$header")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "gpu-check: kiln's build needs headers this machine lacks: ${missing[*]}" | tee -a "$out/$log"
  exit 3
fi

log=build.log
step "build against $("$python" -c 'import torch; print(torch.__version__)')"
run cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')" || exit 1
run cmake --build build/gpu -j "$(nproc)" || exit 1

log=tests.log
step "the CUDA tests (they skip on CPU machines)"
run ctest --test-dir build/gpu -R 'GPU_|GpuTrainer' --output-on-failure
run ctest --test-dir build/gpu -R 'Gpt|Generate|LanguageModel|TokenWindows|GradClip|Float32' --output-on-failure

log=train.log
step "kiln train on CUDA"
corpus="$out/corpus.bin"
run build/gpu/kiln data tokenize docs/*.md README.md --out "$corpus"
run build/gpu/kiln train +recipe=gpt_tiny data.train_file="$corpus" trainer.accelerator=cuda \
  trainer.precision=bf16-mixed trainer.max_steps=200 run.root="$out/runs"
for strategy in zero2 zero3; do
  run build/gpu/kiln train +recipe=gpt_tiny data.train_file="$corpus" trainer.accelerator=cuda \
    trainer.precision=bf16-mixed trainer.max_steps=50 trainer.strategy=$strategy \
    trainer.process_group_backend=nccl optimizer.weight_decay_1d=true run.root="$out/runs-$strategy"
done

if ! $skip_bench; then
  log=bench.log
  step "GPT-2 124M: kiln, eager PyTorch, torch.compile"
  BUILD=build/gpu PYTHON="$python" run bench/gpt2_gpu.sh --steps 30 --warmup 10
fi
echo; echo "gpu-check: logs in $out/"
