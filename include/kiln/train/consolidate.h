// One .safetensors file from a checkpoint: the weights and the optimizer
// state of every parameter, whatever strategy wrote it (one process, DDP, or
// ZeRO's per-rank shards). What `kiln checkpoint consolidate` writes, for
// readers outside kiln (DeepSpeed's zero_to_fp32.py, with the moments too).
//
//   <name>                          each weight and buffer, as model.safetensors
//   optimizer.<state>.<name>        each trainable parameter's state, shaped as
//                                   the parameter: exp_avg, exp_avg_sq and
//                                   max_exp_avg_sq (Adam, AdamW) or
//                                   momentum_buffer (SGD)
//   metadata                        format "kiln.consolidated", optimizer,
//                                   step (Adam's), checkpoint step, source
//
// In Python: `{k[len("optimizer.exp_avg."):]: v for k, v in safetensors.torch.load_file(f).items()
// if k.startswith("optimizer.exp_avg.")}`.
#pragma once

#include <filesystem>

#include "kiln/config/node.h"

namespace kiln::train {

// Reads `checkpoint` (a checkpoint directory or root, verified) of the run
// whose resolved config is `resolved` (its model, module and optimizer say
// how to read the optimizer archives) and writes `out` atomically. Throws
// kiln::IoError for a damaged checkpoint or one that does not fit the
// config's model, ConfigError for a bad config, kiln::Error for an optimizer
// other than SGD, Adam or AdamW.
void consolidate_checkpoint(const config::Node& resolved, const std::filesystem::path& checkpoint,
                            const std::filesystem::path& out);

}  // namespace kiln::train
