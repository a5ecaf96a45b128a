#!/usr/bin/env bash
# Installs, from Debian, every package kiln needs to build, test and run, and
# only those that are missing. Idempotent and non-interactive; says what it
# installs. Run as root or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git  # toolchain
  libyaml-cpp-dev                                           # config files
  libsqlite3-dev                                            # the run store (runs/kiln.db)
  libgtest-dev                                              # unit tests
  python3-omegaconf                                         # differential tests against OmegaConf (/usr/bin/python3)
  clang libclang-rt-14-dev                                  # libFuzzer + ASan/UBSan for the fuzz tests
  clang-format                                              # format check
  libtorch-dev libgloo-dev zlib1g-dev                       # LibTorch 1.13 (CPU, c10d + Gloo)
  libopenblas0-openmp                                       # BLAS for LibTorch (the reference BLAS is ~20x slower)
  python3-torch                                             # PyTorch parity tests and torchrun (/usr/bin/python3)
  dataset-fashion-mnist                                     # the default experiment's data
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) != 0 ]]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
