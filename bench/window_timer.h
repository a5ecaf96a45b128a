// A callback that clocks training throughput: samples per second between
// the end of optimizer step `from` and the end of step `to` (what the
// training benchmarks compare).
#pragma once

#include <chrono>
#include <cstdint>

#include "kiln/train/callbacks.h"
#include "kiln/train/trainer.h"

namespace kiln::bench {

// Clocks the window between the end of optimizer step `from` and of step `to`.
class WindowTimer final : public kiln::Callback {
 public:
  WindowTimer(std::int64_t from, std::int64_t to) : from_(from), to_(to) {}
  void on_fit_start(kiln::Trainer& trainer, kiln::Module&) override {
    if (from_ == 0) mark_start(trainer);
  }
  void on_train_step_end(kiln::Trainer& trainer, kiln::Module&) override {
    if (trainer.global_step() == from_) mark_start(trainer);
    if (trainer.global_step() == to_) {
      seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      samples_ = trainer.samples_seen() - start_samples_;
    }
  }
  double samples_per_second() const { return seconds_ > 0 ? static_cast<double>(samples_) / seconds_ : 0; }

 private:
  void mark_start(kiln::Trainer& trainer) {
    start_ = std::chrono::steady_clock::now();
    start_samples_ = trainer.samples_seen();
  }
  std::int64_t from_, to_;
  std::chrono::steady_clock::time_point start_;
  std::int64_t start_samples_ = 0, samples_ = 0;
  double seconds_ = 0;
};

}  // namespace kiln::bench
