// kiln::Trainer: the training loop (PyTorch Lightning's Trainer).
//
// The Trainer runs fit / validate / test for any Module on any DataModule,
// with the options of TrainerOptions (Lightning's names). It owns what every
// experiment would otherwise write again: epochs and steps, gradient
// accumulation and clipping, validation cadence, batch limits, fast_dev_run,
// threads, deterministic kernels, learning-rate schedules, logging and
// callbacks.
//
//   kiln::Trainer trainer(options);
//   trainer.set_optimizer_factory([](auto params) { return std::make_shared<torch::optim::AdamW>(params); });
//   trainer.add_logger(std::make_shared<kiln::JsonlLogger>("metrics.jsonl"));
//   trainer.fit(module, datamodule);
//   kiln::Metrics test = trainer.test(module, datamodule);
//
// Thread safety: one Trainer per thread; it sets process-wide torch state
// (intra-op threads, deterministic algorithms) when fit starts.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "kiln/cores.h"
#include "kiln/data/data_module.h"
#include "kiln/train/callback.h"
#include "kiln/train/grad_scaler.h"
#include "kiln/train/module.h"
#include "kiln/train/precision.h"
#include "kiln/train/trainer_options.h"

namespace kiln::dist {
struct DistributedContext;
class GradientSync;
class ZeroOptimizer;
}  // namespace kiln::dist
namespace kiln::models {
class Network;
}  // namespace kiln::models

namespace kiln {
namespace train {
class Checkpoint;
}  // namespace train

// Builds the optimizer over the module's parameters (when the Module has no
// configure_optimizers of its own).
using OptimizerFactory = std::function<std::shared_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>;
// Given the run's total optimizer steps, the learning rate at each step
// (a pure function of the step, so a resumed run gets the same rates).
using LrScheduleFactory = std::function<std::function<double(std::int64_t step, double base_lr)>(std::int64_t)>;

// Seeds every generator kiln uses (torch CPU, and CUDA when present).
void seed_everything(std::uint64_t seed);

class Trainer {
 public:
  // Throws ConfigError for options it cannot honour in this build (naming the
  // key): accelerator cuda without a CUDA device, precision 16-mixed on CPU.
  // accelerator auto picks cuda when a device is available, else cpu.
  explicit Trainer(TrainerOptions options);

  Trainer& add_callback(std::shared_ptr<Callback> callback);
  Trainer& add_logger(std::shared_ptr<Logger> logger);
  Trainer& set_optimizer_factory(OptimizerFactory factory);
  Trainer& set_lr_schedule(LrScheduleFactory factory);
  // Where checkpoints go (run_dir/checkpoints); none are written without it.
  // A checkpoint holds the weights, optimizer state, every RNG state, the
  // data position, counters and callback states: fit resumed from it (option
  // `resume`) ends bitwise identical, on CPU, to a fit never interrupted.
  // When and which checkpoints are written is ModelCheckpoint's decision;
  // with enable_checkpointing and no ModelCheckpoint added, fit adds
  // ModelCheckpoint(save_last=true) (one checkpoint per epoch, the newest kept).
  // As in Lightning, fit runs ModelCheckpoints after the other callbacks.
  Trainer& set_checkpoint_root(std::filesystem::path root);

  void fit(Module& module, data::DataModule& data);
  // One pass over the validation / test data; the reduced metrics.
  Metrics validate(Module& module, data::DataModule& data);
  Metrics test(Module& module, data::DataModule& data);
  // Module::predict_step over DataModule::predict_loader() (at most
  // limit_predict_batches batches), in eval mode without gradients: one
  // output per batch, in order, on the Trainer's device. Throws kiln::Error
  // naming the DataModule's type when it has no predict loader.
  std::vector<torch::Tensor> predict(Module& module, data::DataModule& data);

  // --- state, for callbacks ---
  const TrainerOptions& options() const { return options_; }
  // Where the module and batches live (cpu, or cuda with accelerator cuda/auto).
  const torch::Device& device() const { return device_; }
  train::Precision precision() const { return precision_; }
  // The fp16 gradient scaler (precision 16-mixed); nullptr otherwise.
  const GradScaler* grad_scaler() const { return scaler_.get(); }
  std::int64_t current_epoch() const { return epoch_; }
  std::int64_t global_step() const { return global_step_; }
  // Optimizer steps the fit will take at most (max_steps, or epochs x steps per epoch).
  std::int64_t total_steps() const { return total_steps_; }
  // Every metric logged so far, latest value each (Lightning's callback_metrics).
  const Metrics& callback_metrics() const { return callback_metrics_; }
  // Samples trained on since fit started, and the seconds it took.
  std::int64_t samples_seen() const { return samples_seen_; }
  double fit_seconds() const;
  // Ends fit after the current step (EarlyStopping uses this).
  void request_stop() { should_stop_ = true; }
  bool stop_requested() const { return should_stop_; }
  // Data-parallel training (strategy ddp, zero1, zero2 or zero3 under a
  // launcher, docs/distributed.md):
  // this process's rank and the number of ranks; 0 and 1 otherwise. Only
  // global rank zero logs and writes checkpoints (Lightning's is_global_zero).
  int global_rank() const;
  int world_size() const;
  bool is_global_zero() const { return global_rank() == 0; }
  // Training batches per epoch (after limit_train_batches), and optimizer steps per epoch.
  std::int64_t batches_per_epoch() const { return batches_per_epoch_; }
  std::int64_t steps_per_epoch() const { return steps_per_epoch_; }
  // The batch the current epoch started at (> 0 in the epoch a resume continues).
  std::int64_t epoch_first_batch() const { return epoch_first_batch_; }
  // The global step this fit started at (> 0 after a resume).
  std::int64_t fit_start_step() const { return fit_start_step_; }
  // The optimizer of the running fit (nullptr outside fit). Under ZeRO it
  // is this rank's optimizer over its shard of the parameters.
  torch::optim::Optimizer* optimizer() const { return optimizer_; }
  // The latest training batch's loss, undivided by accumulation, as a
  // tensor; reading its value (.item()) is a host sync, so callbacks read it
  // only now and then. Undefined before the first batch.
  const torch::Tensor& last_loss() const { return last_loss_; }
  // Under ZeRO stage 3 a parameter holds its value only while its layer
  // runs; a callback that reads parameters (WeightHistograms) holds this
  // while it does: every parameter gathered, as in one process (FSDP's
  // summon_full_params). Collective: every rank must call it. Empty
  // otherwise.
  std::shared_ptr<void> summon_full_params();
  // Sends metrics to the loggers at the current global step, and into
  // callback_metrics (LearningRateMonitor uses this).
  void log_metrics(const Metrics& metrics) { publish(metrics); }
  // Sends the distribution of `values` (any shape, any device; copied to
  // the host, so a sync) to the loggers that draw histograms, at the
  // current global step. WeightHistograms uses this.
  void log_histogram(const std::string& tag, const torch::Tensor& values);

  // --- checkpoints, for callbacks (ModelCheckpoint) ---
  // Whether save_checkpoint writes: inside fit, with a checkpoint root,
  // enable_checkpointing on and no fast_dev_run.
  bool can_checkpoint() const;
  const std::filesystem::path& checkpoint_root() const { return checkpoint_root_; }
  // Writes the fit's state now as the verified, atomic checkpoint directory
  // <checkpoint root>/<name> (checkpoint.h) and points `last` at it. Call it
  // from on_train_batch_end, on_train_epoch_end or on_fit_end: a fit resumed
  // from it continues right after that point, bitwise as if never stopped.
  // `name` must pass train::is_valid_checkpoint_dir_name. Every callback's
  // state_dict() is taken now, so update your own state before calling.
  // Returns the directory, or an empty path when !can_checkpoint().
  // Throws kiln::IoError (disk) or kiln::Error (a bad name, or re-saving the
  // directory `last` names).
  std::filesystem::path save_checkpoint(const std::string& name);
  // Removes <checkpoint root>/<name> unless `last` names it (false then, or
  // when it does not exist). Throws kiln::IoError when removal fails.
  bool remove_checkpoint(const std::string& name);

 private:
  enum class Stage { kValidate, kTest };
  Metrics evaluate(Module& module, data::BatchLoader* loader, Stage stage, std::int64_t limit);
  std::int64_t batch_limit(double limit, std::size_t available) const;
  // Train and val batches per epoch: limit_*_batches, or overfit_batches when set.
  std::int64_t train_limit(std::size_t available) const;
  std::int64_t val_limit(std::size_t available) const;
  // The batch on the Trainer's device (unchanged on CPU).
  data::Batch to_device(data::Batch batch) const;
  void train_epoch(Module& module, data::BatchLoader& train, data::BatchLoader* val, torch::optim::Optimizer& opt,
                   const std::function<double(std::int64_t, double)>& lr_at, const std::vector<double>& base_lrs);
  void optimizer_step(Module& module, torch::optim::Optimizer& opt,
                      const std::function<double(std::int64_t, double)>& lr_at, const std::vector<double>& base_lrs);
  void run_validation(Module& module, data::BatchLoader* val);
  void publish(const Metrics& metrics);
  bool out_of_time() const;
  // Moves ModelCheckpoints after the other callbacks (Lightning's order),
  // then adds ModelCheckpoint(save_last=true) when checkpointing is on and
  // none was added (Lightning's default).
  void add_default_checkpoint_callback();
  // Restores everything save_checkpoint wrote; returns the batch to start the epoch at.
  std::int64_t resume_from(const std::filesystem::path& where, Module& module, torch::optim::Optimizer& opt);
  // optimizer.pt, or (ZeRO) this rank's part of the sharded optimizer state.
  void restore_optimizer(const train::Checkpoint& checkpoint, torch::optim::Optimizer& opt);

  // Joins the process group and shards `data` when the environment holds a
  // world of more than one rank; before the loaders are made.
  void setup_data_parallel(data::DataModule& data);
  // The fit's optimizer: the Module's own, the factory's, or (ZeRO) the
  // factory's over this rank's shard; DDP's gradient hooks are set up here.
  std::shared_ptr<torch::optim::Optimizer> make_optimizer(Module& module);
  // End of fit: the parameters a ZeRO-3 fit sharded gathered for good
  // (collective), its hooks removed and the ZeRO optimizer gone.
  void end_sharding();
  // The mean over ranks of each value (every rank logs the same keys).
  Metrics average_over_ranks(const Metrics& metrics) const;

  TrainerOptions options_;
  std::shared_ptr<dist::DistributedContext> dist_;                  // data parallel only
  std::shared_ptr<dist::GradientSync> grad_sync_;                   // strategy ddp
  std::shared_ptr<dist::ZeroOptimizer> zero_;                       // strategies zero1, zero2, zero3
  std::vector<std::shared_ptr<models::Network>> sharded_networks_;  // zero3: running their units through zero_
  train::Precision precision_ = train::Precision::k32;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<GradScaler> scaler_;  // precision 16-mixed only
  std::vector<std::shared_ptr<Callback>> callbacks_;
  std::vector<std::shared_ptr<Logger>> loggers_;
  OptimizerFactory optimizer_factory_;
  LrScheduleFactory lr_schedule_factory_;

  std::int64_t epoch_ = 0;
  std::int64_t global_step_ = 0;
  std::int64_t total_steps_ = 0;
  std::int64_t samples_seen_ = 0;
  bool should_stop_ = false;
  double max_seconds_ = -1;  // < 0: no limit
  std::chrono::steady_clock::time_point fit_start_;
  Metrics callback_metrics_;
  LogBuffer train_logs_;
  std::filesystem::path checkpoint_root_;
  std::int64_t start_batch_ = 0;  // where the first epoch of this fit begins (after a resume)
  // Where training goes on after the latest optimizer step (what a
  // checkpoint written now records): batch resume_batch_ of epoch resume_epoch_.
  std::int64_t resume_epoch_ = 0;
  std::int64_t resume_batch_ = 0;
  std::int64_t batches_per_epoch_ = 0;
  std::int64_t steps_per_epoch_ = 0;
  std::int64_t fit_start_step_ = 0;
  std::int64_t epoch_first_batch_ = 0;
  Module* module_ = nullptr;                      // during fit
  torch::optim::Optimizer* optimizer_ = nullptr;  // during fit
  torch::Tensor last_loss_;
};

}  // namespace kiln
