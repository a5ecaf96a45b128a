// Where and from what a run ran: the machine, the source tree and the
// environment, for the run manifest (.kiln/manifest.json).
//
// Two runs that should agree but do not usually differ in one of these: a
// different CPU (other SIMD kernels), thread count, library version, an
// uncommitted change in the source tree, or an environment variable that
// changes a library's behaviour (OMP_NUM_THREADS, CUBLAS_WORKSPACE_CONFIG).
// Each function gathers one of them, cheaply (a few milliseconds), and never
// fails: what cannot be read is left empty rather than failing the run.
//
// Thread safety: the functions are reentrant; describe_git starts
// subprocesses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kiln::track {

struct HostInfo {
  std::string hostname;
  std::string os;         // "Linux 6.1.0-18-amd64 x86_64" (uname)
  std::string cpu_model;  // /proc/cpuinfo's "model name"
  int cpu_count = 0;      // cores this process may run on (its affinity)
  std::uint64_t memory_bytes = 0;
};
HostInfo describe_host();

struct GitState {
  bool present = false;  // false: not inside a git work tree, or no git
  std::string root;      // the work tree's top directory
  std::string commit;    // full hash of HEAD ("" before the first commit)
  std::string branch;    // "" when HEAD is detached
  bool dirty = false;    // tracked changes, or untracked files not ignored
  // SHA-256 of `git diff HEAD --binary` plus the names of untracked files:
  // two dirty trees with the same hash hold the same changes. "" when clean.
  std::string diff_sha256;
};
// The git state of the work tree holding `dir` (the user's project, not kiln).
GitState describe_git(const std::filesystem::path& dir);

// The variables that change how a run behaves (name, value), sorted by name:
// KILN_*, OMP_*, MKL_*, OPENBLAS_*, CUDA_*, CUBLAS_*, CUDNN_*, NCCL_*,
// TORCH_*, PYTORCH_*, SLURM_*, and the torchrun set (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT, ...). A variable whose name suggests a
// secret (TOKEN, SECRET, PASSWORD, KEY, CREDENTIAL) is listed with the value
// "<redacted>": manifests get shared.
std::vector<std::pair<std::string, std::string>> relevant_environment(char** environ_block);

// The compiler kiln was built with, e.g. "GCC 12.2.0".
std::string compiler_description();

}  // namespace kiln::track
