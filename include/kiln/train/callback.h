// Hooks into the Trainer's loop (Lightning's Callback), and the built-in ones.
#pragma once

#include <cstdint>
#include <string>

#include "kiln/track/logger.h"

namespace kiln {

class Trainer;
class Module;

// Every hook has an empty default; override the ones you need. Hooks run on
// the training thread, in the order the callbacks were added. One fit calls
//   on_fit_start
//   per epoch: on_train_epoch_start,
//              per batch: [on_train_step_end if it stepped the optimizer]
//                         [on_validation_start, on_validation_end if it validates]
//                         on_train_batch_end
//              on_train_epoch_end
//   on_fit_end
// and Trainer::test calls on_test_start / on_test_end. Built-in callbacks:
// kiln/train/callbacks.h.
class Callback {
 public:
  virtual ~Callback() = default;
  // After a resume has restored every state (load_state_dict included).
  virtual void on_fit_start(Trainer& trainer, Module& module) {}
  virtual void on_train_epoch_start(Trainer& trainer, Module& module) {}
  // After an optimizer step (not after accumulation-only batches), before
  // the validation that step may trigger.
  virtual void on_train_step_end(Trainer& trainer, Module& module) {}
  // After every training batch and the validation it triggered (unlike
  // Lightning, where validation follows this hook): a checkpoint written
  // here (Trainer::save_checkpoint) resumes after that validation.
  virtual void on_train_batch_end(Trainer& trainer, Module& module) {}
  virtual void on_validation_start(Trainer& trainer, Module& module) {}
  // With the reduced validation metrics ("val/loss", "val/acc", ...).
  virtual void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) {}
  // Also after an epoch cut short by max_steps, max_time or a stop request.
  virtual void on_train_epoch_end(Trainer& trainer, Module& module) {}
  virtual void on_fit_end(Trainer& trainer, Module& module) {}
  virtual void on_test_start(Trainer& trainer, Module& module) {}
  virtual void on_test_end(Trainer& trainer, Module& module, const Metrics& metrics) {}
  // State a checkpoint keeps (a JSON object's text) and gives back on resume,
  // before on_fit_start. Checkpoints store the states by position, so a
  // resumed fit needs the same callbacks in the same order.
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

}  // namespace kiln
