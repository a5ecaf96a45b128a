// Hooks into the Trainer's loop (Lightning's Callback), and the built-in ones.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/track/logger.h"

namespace kiln {

class Trainer;
class Module;

// Every hook has an empty default; override the ones you need. Hooks run on
// the training thread, in the order the callbacks were added.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_fit_start(Trainer& trainer, Module& module) {}
  // After an optimizer step (not after accumulation-only batches).
  virtual void on_train_step_end(Trainer& trainer, Module& module) {}
  // With the reduced validation metrics ("val/loss", "val/acc", ...).
  virtual void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) {}
  virtual void on_train_epoch_end(Trainer& trainer, Module& module) {}
  virtual void on_fit_end(Trainer& trainer, Module& module) {}
  // State a checkpoint keeps (a JSON object's text) and gives back on resume.
  virtual std::string state_dict() const { return "{}"; }
  virtual void load_state_dict(const std::string& state) {}
};

struct EarlyStoppingOptions {
  std::string monitor = "val/loss";  // a validation metric
  std::string mode = "min";          // "min" or "max": which direction is better
  std::int64_t patience = 3;         // validations without improvement before stopping
  double min_delta = 0.0;            // smaller changes do not count as improvement
};

// Stops training when `monitor` has not improved for `patience` validations.
// A monitored metric that is never logged is an error naming it and the
// metrics that were logged.
class EarlyStopping final : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options);
  void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) override;
  std::string state_dict() const override;
  void load_state_dict(const std::string& state) override;
  std::int64_t wait_count() const { return wait_; }
  double best() const { return best_; }

 private:
  EarlyStoppingOptions options_;
  double best_;
  std::int64_t wait_ = 0;
};

// One line per validation and per epoch on stderr: epoch, step, metrics,
// samples per second. Lightning's progress bar, for logs and terminals alike.
class ProgressPrinter final : public Callback {
 public:
  void on_fit_start(Trainer& trainer, Module& module) override;
  void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) override;
  void on_train_epoch_end(Trainer& trainer, Module& module) override;
};

}  // namespace kiln
