// Private to the train layer: zero.json's "parameters" layout, written by the
// Trainer's checkpoints and read back by resumes without ZeRO and by
// consolidate_checkpoint.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "kiln/dist/zero.h"
#include "kiln/track/json.h"

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

// `module`'s parameters that require grad, with their names, in module order.
std::vector<std::pair<std::string, torch::Tensor>> named_trainable_parameters(torch::nn::Module& module);

}  // namespace kiln::train
