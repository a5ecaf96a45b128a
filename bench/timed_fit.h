// What the training benchmarks time: the Trainer `kiln train` runs, on a
// loss-only ClassificationModule, clocked from the end of one optimizer
// step to the end of another.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "kiln/config/node.h"
#include "kiln/data/data_module.h"
#include "kiln/models/network.h"
#include "kiln/train/callbacks.h"
#include "kiln/train/classification.h"
#include "kiln/train/job.h"
#include "kiln/train/trainer.h"
#include "train_bench_support.h"

namespace kiln::bench {

// Clocks the window between the end of optimizer step `from` and of step `to`,
// and the time from fit start to the end of the first step. `synchronize`
// (e.g. torch::cuda::synchronize) runs before each reading, so queued device
// work is counted where it was issued.
class WindowTimer final : public kiln::Callback {
 public:
  WindowTimer(std::int64_t from, std::int64_t to, std::function<void()> synchronize = {})
      : from_(from), to_(to), synchronize_(std::move(synchronize)) {}
  void on_fit_start(kiln::Trainer& trainer, kiln::Module&) override {
    fit_start_ = std::chrono::steady_clock::now();
    if (from_ == 0) mark_start(trainer);
  }
  void on_train_step_end(kiln::Trainer& trainer, kiln::Module&) override {
    const std::int64_t step = trainer.global_step();
    if (step != 1 && step != from_ && step != to_) return;
    if (synchronize_) synchronize_();
    if (step == 1) first_step_seconds_ = seconds_since(fit_start_);
    if (step == from_) mark_start(trainer);
    if (step == to_) {
      seconds_ = seconds_since(start_);
      samples_ = trainer.samples_seen() - start_samples_;
    }
  }
  double samples_per_second() const { return seconds_ > 0 ? static_cast<double>(samples_) / seconds_ : 0; }
  double window_seconds() const { return seconds_; }
  double first_step_seconds() const { return first_step_seconds_; }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  void mark_start(kiln::Trainer& trainer) {
    start_ = std::chrono::steady_clock::now();
    start_samples_ = trainer.samples_seen();
  }
  std::int64_t from_, to_;
  std::function<void()> synchronize_;
  std::chrono::steady_clock::time_point fit_start_, start_;
  std::int64_t start_samples_ = 0, samples_ = 0;
  double seconds_ = 0, first_step_seconds_ = 0;
};

// Samples/s of `cfg`'s model trained by the job's Trainer
// (make_job_trainer: its loggers, checkpoints and callbacks, validation off)
// on `data`, already set up, over steps [warmup, warmup + steps) with
// `threads` intra-op threads. The module is loss only: training accuracy is
// work a module chooses to do, not overhead of the Trainer.
inline double timed_job_fit(const config::Node& cfg, data::DataModule& data, int warmup, int steps, int threads,
                            const std::string& run_prefix) {
  seed_everything(42);
  auto network = instantiate_at<models::Network>(cfg, {"model"});
  ClassificationOptions module_options;
  module_options.metrics.clear();
  ClassificationModule module(network, module_options);
  const std::filesystem::path run_dir = temp_run_dir(run_prefix);
  TrainerOptions options = trainer_options_schema().bind(*cfg.find("trainer"), {"trainer"});
  options.max_steps = warmup + steps;
  options.num_threads = threads;
  options.limit_val_batches = 0;  // training throughput only
  std::unique_ptr<Trainer> trainer = make_job_trainer(cfg, run_dir, options);
  auto timer = std::make_shared<WindowTimer>(warmup, warmup + steps);
  trainer->add_callback(timer);
  trainer->fit(module, data);
  std::filesystem::remove_all(run_dir);
  return timer->samples_per_second();
}

}  // namespace kiln::bench
