// ModelCheckpoint (Lightning's): decides when the Trainer writes a
// checkpoint and which checkpoints stay on disk.
//
//   auto best = std::make_shared<kiln::ModelCheckpoint>(kiln::ModelCheckpointOptions{
//       .monitor = "val/acc", .mode = "max", .save_top_k = 2, .save_last = true});
//   trainer.add_callback(best);
//   trainer.fit(module, data);
//   best->best_model_path();   // ".../checkpoints/epoch=4-step=2110-val_acc=0.9121"
//
// When: every `every_n_epochs` epochs (at on_train_epoch_end, after the
// epoch's validation) and every `every_n_train_steps` optimizer steps (at
// on_train_batch_end, after that step's validation); with save_last, also
// the state the fit ends in (at on_fit_end), so `trainer.resume=last`
// continues exactly where a fit stopped. At most one checkpoint per step.
//
// Which: each save is scored by the latest value of `monitor` in
// Trainer::callback_metrics(); the save_top_k best scores are kept (-1: all,
// 0: none). Without a monitor the score is the global step, so the newest
// save_top_k are kept. A save that is not among the best is still written
// when save_last is on, as the newest checkpoint, and removed when the next
// one is written. `<root>/last` always names the newest checkpoint written.
//
// Names: `filename` is a template like Lightning's, "{epoch}-{step}" or
// "{epoch:02d}-{val/acc:.4f}": each {name} is replaced by its value (epoch,
// step, or a metric; a metric not logged yet is 0), written "name=value"
// when auto_insert_metric_name is on. Integers take printf specs ending in
// d ("{step:06d}"), metrics those ending in f, e or g (default %g). The
// result is made a safe directory name: every character outside
// [A-Za-z0-9._=-] becomes '_' ("val/acc" -> "val_acc"), a leading '.' or '-'
// gets a '_' before it, and it is cut at 128 characters. A name this
// callback already holds gets "-v1", "-v2", ... appended, as in Lightning.
//
// State (checkpointed, restored on resume): the best k names and scores,
// the newest name and its step. Thread safety: training thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/train/callback.h"

namespace kiln {

struct ModelCheckpointOptions {
  std::optional<std::string> monitor;    // metric to rank by ("val/acc"); null: the newest are best
  std::string mode = "min";              // "min" | "max": which direction of `monitor` is better
  std::int64_t save_top_k = 1;           // best checkpoints kept; -1: all; 0: none (only the newest, with save_last)
  bool save_last = false;                // also write every trigger's checkpoint, and the fit's end, as the newest
  std::int64_t every_n_train_steps = 0;  // save every N optimizer steps; 0: off
  std::optional<std::int64_t> every_n_epochs;  // save every N epochs; null: 1 when every_n_train_steps is 0, else off
  std::string filename = "{epoch}-{step}";     // directory name template (see above)
  bool auto_insert_metric_name = true;         // "{epoch}" -> "epoch=3"
};

// The directory name `filename` gives for these values (the rules above,
// without the "-vN" suffix). Pure; ModelCheckpoint's naming, for tests.
std::string format_checkpoint_name(const std::string& filename, bool auto_insert_metric_name, std::int64_t epoch,
                                   std::int64_t step, const Metrics& metrics);

class ModelCheckpoint final : public Callback {
 public:
  // Throws ConfigError for a bad mode, save_top_k < -1 or negative cadences.
  explicit ModelCheckpoint(ModelCheckpointOptions options = {});

  void on_fit_start(Trainer& trainer, Module& module) override;
  void on_train_batch_end(Trainer& trainer, Module& module) override;
  void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) override;
  void on_train_epoch_end(Trainer& trainer, Module& module) override;
  void on_fit_end(Trainer& trainer, Module& module) override;
  std::string state_dict() const override;
  void load_state_dict(const std::string& state) override;

  const ModelCheckpointOptions& options() const { return options_; }
  // Full paths (<checkpoint root>/<name>); empty when none.
  std::string best_model_path() const;
  std::optional<double> best_model_score() const;
  std::string last_model_path() const;
  // The kept best checkpoints, path -> score, in the order they were saved.
  std::vector<std::pair<std::string, double>> best_k_models() const;

 private:
  void save(Trainer& trainer);
  bool better(double a, double b) const;
  std::string unique_name(const std::string& name) const;
  bool holds(const std::string& name) const;
  std::string path_of(const std::string& name) const;

  ModelCheckpointOptions options_;
  std::int64_t every_n_epochs_ = 0;
  std::string root_;                                    // the trainer's checkpoint root, set at fit start
  std::vector<std::pair<std::string, double>> best_k_;  // name, score; in save order
  std::string last_name_;
  std::int64_t last_step_ = -1;
};

}  // namespace kiln
