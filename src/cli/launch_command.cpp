// `kiln launch [flags] -- COMMAND...` and `kiln world`.
#include <ctime>
#include <iostream>
#include <string>

#include "commands.h"
#include "kiln/dist/launcher.h"
#include "kiln/dist/world.h"
#include "kiln/error.h"
#include "kiln/track/json.h"

namespace kiln::cli {
namespace {

constexpr const char* kLaunchUsage = R"(usage: kiln launch [flags] -- COMMAND [ARGS...]

Starts --nproc-per-node workers running COMMAND with the environment
torchrun gives its workers (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT), prefixes their
output with [rank R], writes one log per rank, forwards SIGINT/SIGTERM, and
when a worker fails stops the others and (while restarts remain) starts the
group again. Exit code: the first failing worker's.

flags (torchrun's underscore spellings work too):
  --nproc-per-node N   workers on this node (default 1)
  --nnodes M           nodes in the job (default 1)
  --node-rank R        this node's index, 0..M-1 (default 0)
  --master-addr A      host of rank 0's rendezvous store (default 127.0.0.1)
  --master-port P      its port (default 29500; 0: a free one, single node)
  --max-restarts K     restarts of a failed group (default 0)
  --log-dir DIR        rank<R>.log per rank (default runs/launch/<date_time>)
  --term-timeout S     seconds between SIGTERM and SIGKILL (default 10)

example:
  kiln launch --nproc-per-node 2 -- kiln world
)";

int integer_flag(const std::string& flag, const std::string& value) {
  try {
    std::size_t used = 0;
    int n = std::stoi(value, &used);
    if (used == value.size()) return n;
  } catch (const std::exception&) {
  }
  throw UsageError("kiln launch: " + flag + " expects an integer, found '" + value + "'");
}

std::string default_log_dir() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &local);
  return std::string("runs/launch/") + stamp;
}

}  // namespace

int run_launch(const Args& args) {
  dist::LaunchOptions options;
  bool log_dir_given = false;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string original = args[i];
    std::string flag = original;
    if (flag == "--") {
      ++i;
      break;
    }
    if (flag == "-h" || flag == "--help") {
      std::cout << kLaunchUsage;
      return 0;
    }
    std::string value;
    if (auto eq = flag.find('='); eq != std::string::npos && flag.rfind("--", 0) == 0) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (flag.rfind("--", 0) == 0) {
      if (i + 1 >= args.size()) throw UsageError("kiln launch: " + flag + " needs a value (see kiln launch --help)");
      value = args[++i];
    } else {
      throw UsageError("kiln launch: expected a flag or `--` before the worker command, found '" + flag +
                       "' (see kiln launch --help)");
    }
    for (char& c : flag)
      if (c == '_') c = '-';
    if (flag == "--nproc-per-node") {
      options.nproc_per_node = integer_flag(flag, value);
    } else if (flag == "--nnodes") {
      options.nnodes = integer_flag(flag, value);
    } else if (flag == "--node-rank") {
      options.node_rank = integer_flag(flag, value);
    } else if (flag == "--master-addr") {
      options.master_addr = value;
    } else if (flag == "--master-port") {
      options.master_port = integer_flag(flag, value);
    } else if (flag == "--max-restarts") {
      options.max_restarts = integer_flag(flag, value);
    } else if (flag == "--log-dir") {
      options.log_dir = value;
      log_dir_given = true;
    } else if (flag == "--term-timeout") {
      try {
        options.term_timeout_seconds = std::stod(value);
      } catch (const std::exception&) {
        throw UsageError("kiln launch: --term-timeout expects seconds, found '" + value + "'");
      }
    } else {
      throw UsageError("kiln launch: unknown flag '" + original + "' (see kiln launch --help)");
    }
  }
  options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (!log_dir_given) options.log_dir = default_log_dir();
  return dist::launch(options);
}

int run_world(const Args& args) {
  bool json = false;
  for (const std::string& arg : args) {
    if (arg == "--json") {
      json = true;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: kiln world [--json]\n\nPrints who this process is in a distributed job, as kiln reads it "
                   "from the environment\n(kiln launch, torchrun, SLURM, or none: a world of one).\n";
      return 0;
    } else {
      throw UsageError("kiln world: unknown argument '" + arg + "' (kiln world [--json])");
    }
  }
  dist::World w = dist::world_from_env();
  if (json) {
    auto out = track::JsonValue::object();
    out.set("launcher", track::JsonValue::string(std::string(dist::launcher_name(w.launcher))));
    for (auto [key, value] : {std::pair<const char*, int>{"rank", w.rank},
                              {"local_rank", w.local_rank},
                              {"world_size", w.world_size},
                              {"local_world_size", w.local_world_size},
                              {"node_rank", w.node_rank},
                              {"num_nodes", w.num_nodes},
                              {"master_port", w.master_port},
                              {"restart_count", w.restart_count}})
      out.set(key, track::JsonValue::number(static_cast<std::int64_t>(value)));
    out.set("master_addr", track::JsonValue::string(w.master_addr));
    std::cout << track::to_json(out) << "\n";
    return 0;
  }
  std::cout << "launcher=" << dist::launcher_name(w.launcher) << " rank=" << w.rank << " local_rank=" << w.local_rank
            << " world_size=" << w.world_size << " local_world_size=" << w.local_world_size
            << " node_rank=" << w.node_rank << " num_nodes=" << w.num_nodes << " master=" << w.master_addr << ":"
            << w.master_port << " restart_count=" << w.restart_count << "\n";
  return 0;
}

}  // namespace kiln::cli
