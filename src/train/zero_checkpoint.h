// Private to the train layer: zero.json's "parameters" layout, written by the
// Trainer's checkpoints and read back by resumes without ZeRO and by
// consolidate_checkpoint.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/dist/zero.h"
#include "kiln/track/json.h"
#include "kiln/train/checkpoint.h"

namespace kiln::train {

// [{name, offset, numel}] of `named_trainable` (a module's trainable
// parameters, in module order: ZeRO's flat order).
track::JsonValue zero_parameter_layout(const std::vector<std::pair<std::string, torch::Tensor>>& named_trainable,
                                       const dist::ZeroOptimizer& zero);

// Each of `named_trainable` with the offset zero.json's `layout` records for
// its name. Throws kiln::IoError naming `dir` when the layout is missing
// (written before kiln 0.7.0) or places no parameter of that name.
std::vector<dist::FlatPlacement> zero_placements(
    const track::JsonValue& layout, const std::vector<std::pair<std::string, torch::Tensor>>& named_trainable,
    const std::filesystem::path& dir);

// The ZeRO layout in a checkpoint's zero.json, and its shards' archives.
struct ZeroCheckpointLayout {
  track::JsonValue json;  // the whole of zero.json ("parameters" among it)
  std::int64_t world_size = 0, flat_numel = 0, shard_numel = 0;
  std::vector<std::string> shards;  // optimizer.rank<R>.pt, in rank order
};

// Reads zero.json and the shards; nullopt for a checkpoint without ZeRO.
// Throws kiln::IoError naming the checkpoint for a zero.json without its
// integers.
std::optional<ZeroCheckpointLayout> read_zero_layout(const Checkpoint& checkpoint);

// Loads a checkpoint's optimizer state, whatever strategy wrote it, into
// `whole`, an optimizer over whole parameters (`named_trainable`, plus any
// frozen ones it was built with): optimizer.pt as it is, or ZeRO's shards
// cut per parameter (`factory` reads their archives). What a resume without
// ZeRO and consolidate_checkpoint do.
void load_optimizer_into_whole(const Checkpoint& checkpoint, torch::optim::Optimizer& whole,
                               const std::vector<std::pair<std::string, torch::Tensor>>& named_trainable,
                               const dist::ZeroOptimizer::Factory& factory);

// Zero-filled copies of every parameter of a module, in module order (the
// order a Trainer builds its optimizer with), to load an optimizer state
// into where the module's own parameters must stay untouched; `trainable`
// names the copies of those that require grad.
struct OptimizerStandIns {
  std::vector<torch::Tensor> all;
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
};
OptimizerStandIns optimizer_stand_ins(torch::nn::Module& module);

// `module`'s parameters that require grad, with their names, in module order.
std::vector<std::pair<std::string, torch::Tensor>> named_trainable_parameters(torch::nn::Module& module);

}  // namespace kiln::train
