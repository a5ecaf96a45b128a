// Run identity: one id per run, shared by every rank of a distributed run.
//
// A run id names the run's directory (see run_dir.h), so it must be unique
// even for runs started in the same second (Hydra's timestamp-only directories
// collide: hydra#2070). A fresh id is the local start time plus 32 random bits:
//
//   20240314-092653-3fa9c01e      (YYYYMMDD-HHMMSS-xxxxxxxx, lowercase hex)
//
// and run_dir.h retries with another fresh id if the directory exists anyway.
//
// All ranks of one distributed run must agree on the id without talking to
// each other (the id is needed before the process group exists), so
// resolve_run_id derives it from the launcher's environment, first match wins:
//
//   1. KILN_RUN_ID            taken as is when set and non-empty (kiln's
//                             launcher sets it); it must be a valid run id
//                             (is_valid_run_id), else UsageError
//   2. torchrun               TORCHELASTIC_RUN_ID set and not "none", plus
//                             MASTER_ADDR and MASTER_PORT:
//                             "torchrun-" + 16 hex digits of a hash of the three
//   3. SLURM                  SLURM_JOB_ID and SLURM_STEP_ID:
//                             "slurm-<job>-<step>"
//   4. otherwise              a fresh id (generate_run_id)
//
// Consequences worth knowing:
//   - A torchrun elastic restart keeps TORCHELASTIC_RUN_ID and a SLURM requeue
//     keeps the job and step ids, so the restarted run gets the same id and
//     directory; that is what resuming wants.
//   - Limitation: a plain `torchrun` without a rendezvous id (the default
//     static rendezvous sets TORCHELASTIC_RUN_ID=none) has nothing in the
//     environment that all ranks share and is unique to the run. Each rank
//     then gets a different fresh id. Until the distributed layer lands (rank 0
//     will generate the id and broadcast it over the process group), set
//     KILN_RUN_ID or pass `--rdzv-id` / `--standalone` to torchrun.
//   - Every process of one SLURM step shares the step's id, also processes
//     that are not ranks of one run (`srun -n 4` of four independent runs);
//     give those distinct KILN_RUN_IDs.
//
// All environment, clock and randomness access goes through RunIdEnv so tests
// inject them instead of mutating the real process environment.
//
// Thread safety: the functions are thread-safe when the RunIdEnv's functions
// are (the defaults are, as long as no thread calls setenv concurrently).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::track {

// std::getenv; nullopt when the variable is unset (set-but-empty gives "").
std::optional<std::string> system_getenv(const std::string& name);
// std::chrono::system_clock::now().
std::chrono::system_clock::time_point system_now();
// 32 bits from std::random_device (getrandom(2) on Linux).
std::uint32_t system_random32();

// The seam between run identity and the process: environment, clock, entropy.
// Defaults are the real ones.
struct RunIdEnv {
  // Reads an environment variable; nullopt when unset.
  std::function<std::optional<std::string>(const std::string& name)> getenv = system_getenv;
  // The wall clock; only its local date and time of day reach the id.
  std::function<std::chrono::system_clock::time_point()> now = system_now;
  // Uniformly random 32 bits; must differ between processes started together,
  // so not a time-seeded PRNG.
  std::function<std::uint32_t()> random32 = system_random32;
};

// Where an id came from. Every source except kGenerated is shared by ranks.
enum class RunIdSource { kGenerated, kKilnRunId, kTorchrun, kSlurm };

// "generated", "KILN_RUN_ID", "torchrun", "SLURM".
const char* run_id_source_name(RunIdSource source);

struct RunId {
  std::string value;  // a valid run id (is_valid_run_id)
  RunIdSource source = RunIdSource::kGenerated;

  // True when other processes compute the same id, so the run directory may
  // already exist (made by another rank) and a fresh id must not replace it.
  bool shared() const { return source != RunIdSource::kGenerated; }
};

// The longest run id accepted; directory names must stay well below NAME_MAX.
inline constexpr std::size_t kMaxRunIdLength = 128;

// A safe single path component: 1..kMaxRunIdLength characters from
// [A-Za-z0-9._-], not starting with '.' or '-' (no ".", "..", hidden
// directories or things that read as command-line flags).
bool is_valid_run_id(std::string_view id);

// "YYYYMMDD-HHMMSS-xxxxxxxx" from env.now() in local time and env.random32().
std::string generate_run_id(const RunIdEnv& env = {});

// The shared id the launcher's environment implies (rules 1-3 above), or
// nullopt when the environment names none. Throws kiln::UsageError when
// KILN_RUN_ID is set but not a valid run id (the message names the variable,
// its value and the allowed characters).
std::optional<RunId> run_id_from_env(const RunIdEnv& env = {});

// run_id_from_env, else a fresh id (RunIdSource::kGenerated).
RunId resolve_run_id(const RunIdEnv& env = {});

}  // namespace kiln::track
