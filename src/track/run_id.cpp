#include "kiln/track/run_id.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>

#include "kiln/error.h"

namespace kiln::track {
namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// FNV-1a, 64 bits: stable across platforms, compilers and runs, which
// std::hash is not, and every rank must compute the same value.
std::uint64_t fnv1a64(std::string_view text, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex(std::uint64_t value, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

// Hash of several values, each followed by a NUL so ("ab","c") != ("a","bc").
std::string hash_of(std::initializer_list<std::string_view> parts) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (auto part : parts) {
    h = fnv1a64(part, h);
    h = fnv1a64(std::string_view("\0", 1), h);
  }
  return hex(h, 16);
}

// Launcher values are meant to be plain (SLURM ids are digits), but a value
// with a '/' must never escape the run root.
std::string sanitized(std::string_view value) {
  std::string out(value);
  for (char& c : out)
    if (!is_id_char(c)) c = '_';
  return out;
}

std::optional<std::string> non_empty(const RunIdEnv& env, const std::string& name) {
  auto value = env.getenv(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::optional<RunId> from_torchrun(const RunIdEnv& env) {
  auto rdzv = non_empty(env, "TORCHELASTIC_RUN_ID");
  if (!rdzv || *rdzv == "none") return std::nullopt;  // "none": static rendezvous without an id
  auto addr = non_empty(env, "MASTER_ADDR");
  auto port = non_empty(env, "MASTER_PORT");
  if (!addr || !port) return std::nullopt;
  // The master endpoint joins the hash so that two jobs reusing one --rdzv-id
  // on different machines still get different directories.
  return RunId{"torchrun-" + hash_of({*rdzv, *addr, *port}), RunIdSource::kTorchrun};
}

std::optional<RunId> from_slurm(const RunIdEnv& env) {
  auto job = non_empty(env, "SLURM_JOB_ID");
  auto step = non_empty(env, "SLURM_STEP_ID");
  if (!job || !step) return std::nullopt;
  std::string id = "slurm-" + sanitized(*job) + "-" + sanitized(*step);
  if (!is_valid_run_id(id)) id = "slurm-" + hash_of({*job, *step});  // absurdly long values
  return RunId{id, RunIdSource::kSlurm};
}

}  // namespace

std::optional<std::string> system_getenv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

std::chrono::system_clock::time_point system_now() { return std::chrono::system_clock::now(); }

std::uint32_t system_random32() {
  // One device per call: ids are made a few times per run, and a shared
  // device would need a lock.
  std::random_device device;
  return static_cast<std::uint32_t>(device());
}

const char* run_id_source_name(RunIdSource source) {
  switch (source) {
    case RunIdSource::kGenerated: return "generated";
    case RunIdSource::kKilnRunId: return "KILN_RUN_ID";
    case RunIdSource::kTorchrun: return "torchrun";
    case RunIdSource::kSlurm: return "SLURM";
  }
  return "?";
}

bool is_valid_run_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRunIdLength) return false;
  if (id.front() == '.' || id.front() == '-') return false;
  for (char c : id)
    if (!is_id_char(c)) return false;
  return true;
}

std::string generate_run_id(const RunIdEnv& env) {
  std::time_t t = std::chrono::system_clock::to_time_t(env.now());
  std::tm local{};
  localtime_r(&t, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  return std::string(stamp) + "-" + hex(env.random32(), 8);
}

std::optional<RunId> run_id_from_env(const RunIdEnv& env) {
  if (auto id = env.getenv("KILN_RUN_ID"); id && !id->empty()) {
    if (!is_valid_run_id(*id)) {
      throw UsageError("KILN_RUN_ID='" + *id + "' is not a valid run id: expected 1 to " +
                       std::to_string(kMaxRunIdLength) +
                       " characters from A-Z a-z 0-9 . _ - , not starting with '.' or '-' "
                       "(it names the run directory)");
    }
    return RunId{*id, RunIdSource::kKilnRunId};
  }
  if (auto id = from_torchrun(env)) return id;
  if (auto id = from_slurm(env)) return id;
  return std::nullopt;
}

RunId resolve_run_id(const RunIdEnv& env) {
  if (auto id = run_id_from_env(env)) return *id;
  return RunId{generate_run_id(env), RunIdSource::kGenerated};
}

}  // namespace kiln::track
