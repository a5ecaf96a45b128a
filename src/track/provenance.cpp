#include "kiln/track/provenance.h"

#include <sched.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <thread>

#include "kiln/track/sha256.h"

namespace kiln::track {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  std::size_t start = s.find_first_not_of(' ');
  return start == std::string::npos ? "" : s.substr(start);
}

// The standard output of a shell command and whether it exited 0. Used only
// with fixed command text plus a quoted directory.
std::pair<bool, std::string> capture(const std::string& command, Sha256* digest = nullptr) {
  std::FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (!pipe) return {false, ""};
  std::string out;
  std::array<char, 65536> buffer;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    if (digest) {
      digest->update(buffer.data(), n);
    } else {
      out.append(buffer.data(), n);
    }
  }
  int status = ::pclose(pipe);
  return {status == 0, out};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool has_prefix(const std::string& name, std::initializer_list<const char*> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const char* p) { return name.starts_with(p); });
}

}  // namespace

HostInfo describe_host() {
  HostInfo info;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) == 0) info.hostname = name.data();
  struct utsname uts {};
  if (::uname(&uts) == 0) info.os = std::string(uts.sysname) + " " + uts.release + " " + uts.machine;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.starts_with("model name")) {
      info.cpu_model = trim(line.substr(line.find(':') + 1));
      break;
    }
  }
  cpu_set_t set;
  info.cpu_count = ::sched_getaffinity(0, sizeof set, &set) == 0
                       ? CPU_COUNT(&set)
                       : static_cast<int>(std::thread::hardware_concurrency());
  struct sysinfo sys {};
  if (::sysinfo(&sys) == 0) info.memory_bytes = static_cast<std::uint64_t>(sys.totalram) * sys.mem_unit;
  return info;
}

GitState describe_git(const std::filesystem::path& dir) {
  GitState state;
  const std::string git = "git -C " + shell_quote(dir.string()) + " ";
  auto [inside, root] = capture(git + "rev-parse --show-toplevel");
  if (!inside) return state;
  state.present = true;
  state.root = trim(root);
  if (auto [ok, commit] = capture(git + "rev-parse --verify -q HEAD"); ok) state.commit = trim(commit);
  if (auto [ok, branch] = capture(git + "symbolic-ref -q --short HEAD"); ok) state.branch = trim(branch);
  auto [status_ok, status] = capture(git + "status --porcelain --untracked-files=normal");
  state.dirty = status_ok && !trim(status).empty();
  if (state.dirty) {
    Sha256 digest;
    if (!state.commit.empty()) capture(git + "diff HEAD --binary", &digest);
    if (auto [ok, untracked] = capture(git + "ls-files --others --exclude-standard"); ok) digest.update(untracked);
    state.diff_sha256 = digest.finish_hex();
  }
  return state;
}

std::vector<std::pair<std::string, std::string>> relevant_environment(char** environ_block) {
  static const std::initializer_list<const char*> kPrefixes = {
      "KILN_", "OMP_",     "MKL_",   "OPENBLAS_", "CUDA_",       "CUBLAS_",     "CUDNN_",       "NCCL_",
      "TORCH", "PYTORCH_", "SLURM_", "GLOO_",     "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_"};
  static const std::initializer_list<const char*> kExact = {
      "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "CI", "LD_LIBRARY_PATH", "LD_PRELOAD"};
  static const std::initializer_list<const char*> kSecretWords = {"TOKEN", "SECRET", "PASSWORD", "KEY", "CREDENTIAL"};
  std::vector<std::pair<std::string, std::string>> out;
  for (char** entry = environ_block; entry && *entry; ++entry) {
    std::string text(*entry);
    std::size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    std::string name = text.substr(0, eq);
    bool wanted = has_prefix(name, kPrefixes) ||
                  std::any_of(kExact.begin(), kExact.end(), [&](const char* e) { return name == e; });
    if (!wanted) continue;
    bool secret = std::any_of(kSecretWords.begin(), kSecretWords.end(),
                              [&](const char* word) { return name.find(word) != std::string::npos; });
    out.emplace_back(name, secret ? "<redacted>" : text.substr(eq + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string compiler_description() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace kiln::track
