#!/usr/bin/env bash
# Installs, from Debian, every package kiln needs to build, test and run, and
# only those that are missing. Idempotent and non-interactive; says what it
# installs. Run as root or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git  # toolchain
  libyaml-cpp-dev                                           # config files
  libsqlite3-dev                                            # the run store (runs/kiln.db)
  libcurl4-openssl-dev                                      # dataset fetches over HTTP(S) and S3
  libsentencepiece-dev python3-sentencepiece                # SentencePiece tokenizers (+ the Python parity test)
  libgtest-dev                                              # unit tests
  python3-omegaconf                                         # differential tests against OmegaConf (/usr/bin/python3)
  clang libclang-rt-14-dev                                  # libFuzzer + ASan/UBSan for the fuzz tests
  clang-format                                              # format check
  libtorch-dev libgloo-dev zlib1g-dev                       # LibTorch 1.13 (CPU, c10d + Gloo)
  libopenblas0-openmp                                       # BLAS for LibTorch (the reference BLAS is ~20x slower)
  python3-torch                                             # PyTorch parity tests and torchrun (/usr/bin/python3)
  dataset-fashion-mnist                                     # the default experiment's data
  nodejs npm                                                # the build vendors uPlot for `kiln ui` from the npm registry
  chromium                                                  # the dashboard's browser test (tests/e2e/ui_dashboard.sh)
)

# Installed, or provided by an installed package: NodeSource's nodejs
# provides npm and conflicts with Debian's, which apt would otherwise try to
# swap in.
installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" && return 0
  dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null | sed -n 's/^install ok installed|//p' | tr ',' '\n' |
    sed 's/ *(.*//; s/^ *//' | grep -xF "$1" >/dev/null  # not -q: an early exit would SIGPIPE the pipe
}

missing=()
for package in "${packages[@]}"; do
  if ! installed "$package"; then
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
