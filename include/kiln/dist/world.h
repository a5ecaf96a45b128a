// Who this process is in a distributed job, read from the environment that
// started it: kiln's own launcher and torchrun set the same variables
// (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_RESTART_COUNT); SLURM sets its own (SLURM_PROCID, ...). The
// same binary runs under any of them, or alone as a world of one. Torch-free.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::dist {

enum class Launcher { kNone, kKiln, kTorchrun, kSlurm };

// "none", "kiln", "torchrun", "slurm".
std::string_view launcher_name(Launcher launcher);

struct World {
  Launcher launcher = Launcher::kNone;
  int rank = 0;        // global rank, 0..world_size-1
  int local_rank = 0;  // rank on this node (the CUDA device index)
  int world_size = 1;
  int local_world_size = 1;  // ranks on this node
  int node_rank = 0;
  int num_nodes = 1;
  std::string master_addr = "127.0.0.1";  // where rank 0's TCPStore listens
  int master_port = 29500;
  int restart_count = 0;  // how often the launcher restarted the group
  // torchrun's static rendezvous serves the TCPStore at MASTER_PORT from its
  // own agent (TORCHELASTIC_USE_AGENT_STORE=True): then every rank, rank 0
  // too, joins that store as a client instead of rank 0 serving one.
  bool use_agent_store = false;

  bool distributed() const { return world_size > 1; }
  bool is_rank_zero() const { return rank == 0; }
};

// Reads an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup process_env();

// The world the environment describes. RANK + WORLD_SIZE mean kiln or
// torchrun (torchrun also sets TORCHELASTIC_RUN_ID; kiln sets KILN_LAUNCHER=kiln);
// else SLURM_PROCID + SLURM_NTASKS mean SLURM (master: the first host of
// SLURM_JOB_NODELIST unless MASTER_ADDR is set; port: MASTER_PORT, or
// 15000 + the last four digits of SLURM_JOB_ID, as Lightning derives it);
// else a world of one. Throws kiln::UsageError naming the variable, its
// value and what was expected (an integer, rank < world size, ...).
World world_from_env(const EnvLookup& env = process_env());

// The hosts of a SLURM node list, compressed form expanded:
// "gpu[01-03,07],login" -> gpu01 gpu02 gpu03 gpu07 login. Throws
// kiln::UsageError on a malformed list.
std::vector<std::string> expand_slurm_nodelist(std::string_view nodelist);

}  // namespace kiln::dist
