// Schemas and registration of the built-in callbacks.
#include "kiln/train/callbacks.h"

namespace kiln {
namespace {
namespace cfg = kiln::config;

cfg::Schema<ModelCheckpointOptions> model_checkpoint_schema() {
  using O = ModelCheckpointOptions;
  cfg::Schema<O> s("model_checkpoint", {.doc = "when to checkpoint and which checkpoints to keep (Lightning's)"});
  s.field("monitor", &O::monitor).doc("metric that ranks checkpoints (null: the newest are best)");
  s.field("mode", &O::mode).doc("whether a lower or higher monitor is better").choices({"min", "max"});
  s.field("save_top_k", &O::save_top_k).doc("best checkpoints kept (-1: all, 0: none but the newest)").min(-1);
  s.field("save_last", &O::save_last).doc("also keep the newest checkpoint, and save where the fit ends");
  s.field("every_n_train_steps", &O::every_n_train_steps).doc("save every N optimizer steps (0: off)").min(0);
  s.field("every_n_epochs", &O::every_n_epochs)
      .doc("save every N epochs (null: 1 unless every_n_train_steps is set)")
      .min(0);
  s.field("filename", &O::filename).doc("directory name template, e.g. '{epoch}-{step}-{val/acc:.4f}'");
  s.field("auto_insert_metric_name", &O::auto_insert_metric_name).doc("write '{epoch}' as 'epoch=3'");
  return s;
}

cfg::Schema<EarlyStoppingOptions> early_stopping_schema() {
  using O = EarlyStoppingOptions;
  cfg::Schema<O> s("early_stopping", {.doc = "stop when a validation metric stops improving"});
  s.field("monitor", &O::monitor).doc("validation metric to watch");
  s.field("mode", &O::mode).doc("whether a lower or higher value is better").choices({"min", "max"});
  s.field("patience", &O::patience).doc("validations without improvement before stopping").min(1);
  s.field("min_delta", &O::min_delta).doc("smaller changes do not count as improvement").min(0.0);
  return s;
}

cfg::Schema<LearningRateMonitorOptions> lr_monitor_schema() {
  using O = LearningRateMonitorOptions;
  cfg::Schema<O> s("learning_rate_monitor", {.doc = "log lr-<Optimizer> (Lightning's LearningRateMonitor)"});
  s.field("logging_interval", &O::logging_interval).doc("log every log step or every epoch").choices({"step", "epoch"});
  return s;
}

cfg::Schema<TimerOptions> timer_schema() {
  using O = TimerOptions;
  cfg::Schema<O> s("timer", {.doc = "stop training after a wall-clock duration; time each stage"});
  s.field("duration", &O::duration).doc("DD:HH:MM:SS (null: never stop)");
  s.field("interval", &O::interval).doc("check the duration every step or every epoch").choices({"step", "epoch"});
  return s;
}

cfg::Schema<ProgressBarOptions> progress_bar_schema() {
  using O = ProgressBarOptions;
  cfg::Schema<O> s("progress_bar", {.doc = "tqdm-like progress on stderr (Lightning's TQDMProgressBar)"});
  s.field("refresh_rate", &O::refresh_rate).doc("terminal: refresh every N batches").min(0);
  s.field("plain_every_n_steps", &O::plain_every_n_steps).doc("not a terminal: a line every N batches").min(0);
  s.field("mode", &O::mode).doc("tty, plain or off (null: KILN_PROGRESS, CI, isatty)");
  return s;
}

cfg::Schema<WeightHistogramsOptions> weight_histograms_schema() {
  using O = WeightHistogramsOptions;
  cfg::Schema<O> s("weight_histograms", {.doc = "TensorBoard histograms of every parameter every N steps"});
  s.field("every_n_steps", &O::every_n_steps).doc("after every N-th optimizer step").min(1);
  return s;
}

}  // namespace

void register_builtin_callbacks() {
  static const bool registered = [] {
    auto& callbacks = kiln::registry<Callback>();
    callbacks.add("model_checkpoint", model_checkpoint_schema(),
                  [](const ModelCheckpointOptions& o) { return std::make_shared<ModelCheckpoint>(o); });
    callbacks.add("early_stopping", early_stopping_schema(),
                  [](const EarlyStoppingOptions& o) { return std::make_shared<EarlyStopping>(o); });
    callbacks.add("learning_rate_monitor", lr_monitor_schema(),
                  [](const LearningRateMonitorOptions& o) { return std::make_shared<LearningRateMonitor>(o); });
    callbacks.add("timer", timer_schema(), [](const TimerOptions& o) { return std::make_shared<Timer>(o); });
    callbacks.add("progress_bar", progress_bar_schema(),
                  [](const ProgressBarOptions& o) { return std::make_shared<ProgressBar>(o); });
    callbacks.add("weight_histograms", weight_histograms_schema(),
                  [](const WeightHistogramsOptions& o) { return std::make_shared<WeightHistograms>(o); });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln
