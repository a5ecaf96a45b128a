// `kiln checkpoint consolidate RUN_OR_CKPT --out FILE.safetensors`: one file
// with a checkpoint's weights and per-parameter optimizer state, whatever
// strategy wrote it (the runner reads it; kiln/train/consolidate.h).
#include <iostream>
#include <optional>

#include "commands.h"
#include "flag_value.h"
#include "job_runner.h"
#include "kiln/error.h"
#include "run_layout.h"

namespace kiln::cli {
namespace {

constexpr const char* kCheckpointUsage =
    R"(usage: kiln checkpoint consolidate RUN_OR_CKPT --out FILE.safetensors

Writes one .safetensors file holding a checkpoint's weights and each
trainable parameter's optimizer state (optimizer.<state>.<name>: exp_avg,
exp_avg_sq, momentum_buffer, ...), whatever strategy wrote it: one process,
DDP, or ZeRO's per-rank optimizer shards (docs/distributed.md).

RUN_OR_CKPT is a run directory (its newest checkpoint), its checkpoints/
directory, or one checkpoint in it.

options:
  --out FILE     the file to write (atomically)
  -h, --help     this help
)";

}  // namespace

int run_checkpoint(const Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kCheckpointUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "consolidate")
    throw UsageError("kiln checkpoint: unknown subcommand '" + args[0] + "' (the subcommand is consolidate)");
  std::optional<std::string> target, out;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kCheckpointUsage;
      return 0;
    }
    if (auto v = flag_value(args, i, "--out", "kiln checkpoint consolidate")) {
      out = *v;
    } else if (a.starts_with("-")) {
      throw UsageError("kiln checkpoint consolidate: unknown argument '" + a + "' (see kiln checkpoint --help)");
    } else if (target) {
      throw UsageError("kiln checkpoint consolidate: one RUN_OR_CKPT, found '" + *target + "' and '" + a + "'");
    } else {
      target = a;
    }
  }
  if (!target) throw UsageError("kiln checkpoint consolidate: no RUN_OR_CKPT given (see kiln checkpoint --help)");
  if (!out) throw UsageError("kiln checkpoint consolidate: --out FILE.safetensors is required");
  const RunCheckpoint located = locate_run_checkpoint(*target, "kiln checkpoint consolidate");
  const std::filesystem::path& checkpoint = located.checkpoint;
  const config::Node& resolved = located.resolved;
  job_runner().consolidate(resolved, checkpoint.string(), *out);
  std::cout << "wrote " << *out << " from " << checkpoint.string() << "\n";
  return 0;
}

}  // namespace kiln::cli
