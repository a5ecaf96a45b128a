// The built-in callbacks and the "callback" registry kind.
//
//   callbacks:                        # configs/train.yaml: name -> `_target_` node
//     model_checkpoint:
//       _target_: model_checkpoint
//       monitor: val/acc
//       mode: max
//
//   kiln::register_builtin_callbacks();
//   std::shared_ptr<kiln::Callback> cb =
//       kiln::instantiate_at<kiln::Callback>(root, {"callbacks", "model_checkpoint"});
//
// Built-ins: model_checkpoint (ModelCheckpoint), early_stopping
// (EarlyStopping), learning_rate_monitor (LearningRateMonitor), timer
// (Timer), progress_bar (ProgressBar), weight_histograms
// (WeightHistograms); parameters by their options' names.
// Users register their own (docs/callbacks.md):
//   KILN_REGISTER(kiln::Callback, "my_callback", my_schema(), make_my_callback);
#pragma once

#include "kiln/registry.h"
#include "kiln/train/callback.h"
#include "kiln/train/lr_monitor.h"
#include "kiln/train/model_checkpoint.h"
#include "kiln/train/progress_bar.h"
#include "kiln/train/timer.h"
#include "kiln/train/weight_histograms.h"

namespace kiln {

// Registers the six built-ins with kiln::registry<Callback>(); idempotent
// and thread-safe.
void register_builtin_callbacks();

}  // namespace kiln

// Built from config alone.
KILN_DEFINE_KIND(kiln::Callback, "callback");
