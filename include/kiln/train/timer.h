// Timer (Lightning's): stops training once a wall-clock duration has passed,
// and measures the time spent in each stage.
//
//   auto timer = std::make_shared<kiln::Timer>(kiln::TimerOptions{.duration = "00:12:00:00"});
//   trainer.add_callback(timer);
//   trainer.fit(module, data);
//   timer->time_elapsed("train");   // seconds, earlier runs of a resumed fit included
//
// The duration is checked after every optimizer step (interval "step") or
// at each epoch end ("epoch"); when the train time reaches it, the Timer
// asks the Trainer to stop (the fit ends after that step, or that epoch,
// and ModelCheckpoint with save_last saves where it stopped). The elapsed
// times are part of the checkpoint, so a resumed fit counts the time its
// earlier runs trained (Lightning does the same). Stages: "train" (fit),
// "validate" (validation inside fit), "test".
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "kiln/train/callback.h"

namespace kiln {

struct TimerOptions {
  std::optional<std::string> duration;  // "DD:HH:MM:SS" (fewer fields: the last is seconds); null: never stop
  std::string interval = "step";        // "step" | "epoch": when the duration is checked
};

// "DD:HH:MM:SS", "HH:MM:SS", "MM:SS" or "SS" in seconds; nullopt when malformed.
std::optional<double> parse_duration(const std::string& text);

class Timer final : public Callback {
 public:
  // Seconds on a monotonic clock; tests inject their own.
  using Clock = std::function<double()>;
  // Throws ConfigError for a malformed duration or an interval other than step or epoch.
  explicit Timer(TimerOptions options = {}, Clock clock = {});

  void on_fit_start(Trainer& trainer, Module& module) override;
  void on_train_step_end(Trainer& trainer, Module& module) override;
  void on_train_batch_end(Trainer& trainer, Module& module) override;
  void on_validation_start(Trainer& trainer, Module& module) override;
  void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) override;
  void on_train_epoch_end(Trainer& trainer, Module& module) override;
  void on_fit_end(Trainer& trainer, Module& module) override;
  void on_test_start(Trainer& trainer, Module& module) override;
  void on_test_end(Trainer& trainer, Module& module, const Metrics& metrics) override;
  std::string state_dict() const override;
  void load_state_dict(const std::string& state) override;

  // Seconds spent in `stage` ("train", "validate", "test"), the running
  // stretch included. 0 for a stage never run.
  double time_elapsed(const std::string& stage = "train") const;
  // Seconds left of the duration in the train stage; nullopt without one.
  std::optional<double> time_remaining() const;
  std::optional<double> duration_seconds() const { return duration_; }

 private:
  void start(const std::string& stage);
  void stop(const std::string& stage);
  void check(Trainer& trainer);

  TimerOptions options_;
  Clock clock_;
  std::optional<double> duration_;
  std::map<std::string, double> elapsed_;  // finished stretches, per stage
  std::map<std::string, double> started_;  // running stretches: stage -> clock at start
};

}  // namespace kiln
