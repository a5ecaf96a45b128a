// LearningRateMonitor (Lightning's): logs each optimizer's learning rate.
//
//   trainer.add_callback(std::make_shared<kiln::LearningRateMonitor>());   // lr-AdamW every log step
//
// The metric is "lr-<Optimizer>" after the optimizer's class (lr-SGD,
// lr-Adam, lr-AdamW, lr-RMSprop, lr-Adagrad, lr-LBFGS, else the class name),
// with "/pg1", "/pg2", ... per parameter group when there are several, as
// in Lightning. logging_interval "step" logs after every log_every_n_steps-th
// optimizer step (with the trainer's own metrics) the rate the next step
// uses, so with a scheduler it is schedule(global_step); "epoch" logs at
// each epoch start the rate of its first step. Reads no tensor: no host sync.
#pragma once

#include <string>

#include "kiln/train/callback.h"

namespace kiln {

struct LearningRateMonitorOptions {
  std::string logging_interval = "step";  // "step" | "epoch"
};

class LearningRateMonitor final : public Callback {
 public:
  // Throws ConfigError for a logging_interval other than step or epoch.
  explicit LearningRateMonitor(LearningRateMonitorOptions options = {});
  void on_train_epoch_start(Trainer& trainer, Module& module) override;
  void on_train_step_end(Trainer& trainer, Module& module) override;

  // The current learning rates of the fit's optimizer under their metric names.
  static Metrics learning_rates(const Trainer& trainer);

 private:
  LearningRateMonitorOptions options_;
};

}  // namespace kiln
