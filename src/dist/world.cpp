#include "kiln/dist/world.h"

#include <charconv>
#include <cstdlib>

#include "kiln/error.h"

namespace kiln::dist {
namespace {

// The integer an environment variable holds, checked against [min, max].
std::optional<int> integer_var(const EnvLookup& env, const std::string& name, int min, int max = 1 << 30) {
  std::optional<std::string> text = env(name);
  if (!text) return std::nullopt;
  int value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc() || ptr != end || value < min || value > max)
    throw UsageError("environment variable " + name + "='" + *text + "': expected an integer in " +
                     std::to_string(min) + ".." + std::to_string(max) + "\n  hint: it is set by the launcher (" +
                     "kiln launch, torchrun or SLURM); unset it to run as a single process");
  return value;
}

int required_var(const EnvLookup& env, const std::string& name, const std::string& because, int min) {
  std::optional<int> value = integer_var(env, name, min);
  if (!value) throw UsageError("environment variable " + name + " is not set, but " + because);
  return *value;
}

void check_rank(const std::string& rank_name, int rank, const std::string& size_name, int size) {
  if (rank >= size)
    throw UsageError("environment variable " + rank_name + "=" + std::to_string(rank) + " is not below " + size_name +
                     "=" + std::to_string(size) + ": ranks run from 0 to " + size_name + " - 1");
}

World torchrun_style(const EnvLookup& env) {
  World world;
  world.launcher = env("KILN_LAUNCHER").value_or("") == "kiln" ? Launcher::kKiln : Launcher::kTorchrun;
  const bool has_rank = env("RANK").has_value(), has_size = env("WORLD_SIZE").has_value();
  world.rank = has_rank ? *integer_var(env, "RANK", 0) : required_var(env, "RANK", "WORLD_SIZE is", 0);
  world.world_size = has_size ? *integer_var(env, "WORLD_SIZE", 1) : required_var(env, "WORLD_SIZE", "RANK is", 1);
  check_rank("RANK", world.rank, "WORLD_SIZE", world.world_size);
  world.local_rank = integer_var(env, "LOCAL_RANK", 0).value_or(world.rank);
  world.local_world_size = integer_var(env, "LOCAL_WORLD_SIZE", 1).value_or(world.world_size);
  check_rank("LOCAL_RANK", world.local_rank, "LOCAL_WORLD_SIZE", world.local_world_size);
  world.node_rank = integer_var(env, "GROUP_RANK", 0).value_or(integer_var(env, "NODE_RANK", 0).value_or(0));
  world.num_nodes = (world.world_size + world.local_world_size - 1) / world.local_world_size;
  world.master_addr = env("MASTER_ADDR").value_or("127.0.0.1");
  world.master_port = integer_var(env, "MASTER_PORT", 1, 65535).value_or(29500);
  world.restart_count = integer_var(env, "TORCHELASTIC_RESTART_COUNT", 0).value_or(0);
  world.use_agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  return world;
}

World slurm(const EnvLookup& env) {
  World world;
  world.launcher = Launcher::kSlurm;
  world.rank = *integer_var(env, "SLURM_PROCID", 0);
  world.world_size = required_var(env, "SLURM_NTASKS", "SLURM_PROCID is", 1);
  check_rank("SLURM_PROCID", world.rank, "SLURM_NTASKS", world.world_size);
  world.num_nodes = integer_var(env, "SLURM_NNODES", 1).value_or(1);
  world.node_rank = integer_var(env, "SLURM_NODEID", 0).value_or(0);
  check_rank("SLURM_NODEID", world.node_rank, "SLURM_NNODES", world.num_nodes);
  world.local_rank = integer_var(env, "SLURM_LOCALID", 0).value_or(0);
  // SLURM_NTASKS_PER_NODE is only set with --ntasks-per-node; else the
  // tasks are spread evenly (what --ntasks with --nodes does).
  world.local_world_size =
      integer_var(env, "SLURM_NTASKS_PER_NODE", 1).value_or((world.world_size + world.num_nodes - 1) / world.num_nodes);
  check_rank("SLURM_LOCALID", world.local_rank, "tasks per node", world.local_world_size);
  if (auto addr = env("MASTER_ADDR")) {
    world.master_addr = *addr;
  } else {
    std::optional<std::string> nodelist = env("SLURM_JOB_NODELIST");
    if (!nodelist) nodelist = env("SLURM_NODELIST");
    if (!nodelist)
      throw UsageError(
          "under SLURM (SLURM_PROCID is set) kiln needs rank 0's host: neither MASTER_ADDR nor "
          "SLURM_JOB_NODELIST is set");
    world.master_addr = expand_slurm_nodelist(*nodelist).front();
  }
  if (auto port = integer_var(env, "MASTER_PORT", 1, 65535)) {
    world.master_port = *port;
  } else if (auto job = env("SLURM_JOB_ID")) {
    // Every task of the job derives the same port; jobs sharing a node
    // most likely differ in it.
    int job_id = *integer_var(env, "SLURM_JOB_ID", 0);
    world.master_port = 15000 + job_id % 10000;
  }
  world.restart_count = integer_var(env, "SLURM_RESTART_COUNT", 0).value_or(0);
  return world;
}

}  // namespace

std::string_view launcher_name(Launcher launcher) {
  switch (launcher) {
    case Launcher::kNone: return "none";
    case Launcher::kKiln: return "kiln";
    case Launcher::kTorchrun: return "torchrun";
    case Launcher::kSlurm: return "slurm";
  }
  return "none";
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

World world_from_env(const EnvLookup& env) {
  if (env("RANK") || env("WORLD_SIZE")) return torchrun_style(env);
  if (env("SLURM_PROCID")) return slurm(env);
  return World{};
}

}  // namespace kiln::dist
