// WeightHistograms: the distribution of every parameter every N optimizer
// steps, drawn by TensorBoard's Histograms and Distributions tabs -- what
// W&B's `wandb.watch(model, log="parameters")` and `SummaryWriter.
// add_histogram` loops give Python users.
//
//   callbacks:
//     histograms:
//       _target_: weight_histograms
//       every_n_steps: 100
//
// Tags are "weights/<parameter name>" (names as named_parameters() gives
// them: "layers.0.weight"), after that step's update. Each
// histogram copies the parameter to the host, so a small N costs a sync per
// parameter at those steps; other steps cost nothing.
#pragma once

#include <cstdint>

#include "kiln/train/callback.h"

namespace kiln {

struct WeightHistogramsOptions {
  std::int64_t every_n_steps = 100;  // after every N-th optimizer step
};

class WeightHistograms final : public Callback {
 public:
  // Throws ConfigError when every_n_steps < 1.
  explicit WeightHistograms(WeightHistogramsOptions options = {});
  void on_train_step_end(Trainer& trainer, Module& module) override;

 private:
  WeightHistogramsOptions options_;
};

}  // namespace kiln
