// The Trainer's options, with PyTorch Lightning's names, and their schema.
//
// Torch-free, so `kiln train --help` and config validation know every option
// without loading LibTorch. Bound from the `trainer:` subtree of a job config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kiln/config/schema.h"

namespace kiln {

struct TrainerOptions {
  std::int64_t max_epochs = 1000;       // -1: no limit (then max_steps or max_time must stop the run)
  std::int64_t max_steps = -1;          // optimizer steps; -1: no limit
  std::optional<std::string> max_time;  // "DD:HH:MM:SS"
  std::int64_t accumulate_grad_batches = 1;
  std::optional<double> gradient_clip_val;
  std::string gradient_clip_algorithm = "norm";  // "norm" | "value"
  double val_check_interval = 1.0;               // <= 1: fraction of an epoch; > 1: every N batches
  std::optional<std::int64_t> check_val_every_n_epoch = 1;
  double limit_train_batches = 1.0;  // <= 1: fraction; > 1: count
  double limit_val_batches = 1.0;
  double limit_test_batches = 1.0;
  double limit_predict_batches = 1.0;
  std::int64_t fast_dev_run = 0;  // > 0: run this many batches of train, val and test, once
  double overfit_batches = 0.0;   // > 0: train on these first batches (fraction or count) every epoch, unshuffled
  std::int64_t num_sanity_val_steps = 2;
  std::int64_t log_every_n_steps = 50;
  bool deterministic = true;
  std::string precision = "32";  // "32" | "bf16-mixed" | "16-mixed"
  // torch.set_float32_matmul_precision for the run: "high" lets CUDA run
  // float32 matrix products in TF32; null leaves LibTorch's ("highest").
  std::optional<std::string> float32_matmul_precision;
  std::string accelerator = "cpu";  // "cpu" | "cuda" | "auto"
  std::int64_t devices = 1;
  std::optional<std::int64_t> num_threads;  // intra-op threads; null: the cores available to the process
  // "auto": DDP when the launcher started more than one rank (WORLD_SIZE > 1),
  // else one process; "ddp": the same, named; "zero1" / "zero2" / "zero3":
  // ZeRO stage 1 (optimizer state sharded) / 2 (+ gradients) / 3 (+
  // parameters; "fsdp" names it too). See docs/distributed.md.
  std::string strategy = "auto";
  double bucket_cap_mb = 25;           // DDP gradient bucket size (PyTorch's default)
  double process_group_timeout = 300;  // seconds a rank waits for the others (rendezvous, collectives)
  // c10d backend of the process group (Lightning's process_group_backend):
  // "auto" is nccl on CUDA devices (when LibTorch has it) and gloo on CPU.
  std::string process_group_backend = "auto";
  // Write checkpoints (where the job gives a directory); without a
  // ModelCheckpoint callback, fit adds ModelCheckpoint(save_last=true).
  bool enable_checkpointing = true;
  std::optional<std::string> resume;  // "last" or a checkpoint / run directory
};

inline config::Schema<TrainerOptions> trainer_options_schema() {
  using T = TrainerOptions;
  config::Schema<T> s("trainer", {.doc = "Trainer (PyTorch Lightning's names)"});
  s.field("max_epochs", &T::max_epochs).doc("stop after this many epochs (-1: no limit)").min(-1);
  s.field("max_steps", &T::max_steps).doc("stop after this many optimizer steps (-1: no limit)").min(-1);
  s.field("max_time", &T::max_time).doc("stop after this wall time, DD:HH:MM:SS");
  s.field("accumulate_grad_batches", &T::accumulate_grad_batches).doc("batches per optimizer step").min(1);
  s.field("gradient_clip_val", &T::gradient_clip_val).doc("clip gradients at this value (null: off)").min(0.0);
  s.field("gradient_clip_algorithm", &T::gradient_clip_algorithm)
      .doc("how gradient_clip_val applies")
      .choices({"norm", "value"});
  s.field("val_check_interval", &T::val_check_interval)
      .doc("validate every fraction of an epoch (<= 1) or every N batches")
      .min(0.0);
  s.field("check_val_every_n_epoch", &T::check_val_every_n_epoch)
      .doc("validate every N epochs (null: by val_check_interval only)")
      .min(1);
  s.field("limit_train_batches", &T::limit_train_batches).doc("fraction (<= 1) or count of train batches").min(0.0);
  s.field("limit_val_batches", &T::limit_val_batches).doc("fraction (<= 1) or count of val batches").min(0.0);
  s.field("limit_test_batches", &T::limit_test_batches).doc("fraction (<= 1) or count of test batches").min(0.0);
  s.field("limit_predict_batches", &T::limit_predict_batches)
      .doc("fraction (<= 1) or count of predict batches")
      .min(0.0);
  s.field("fast_dev_run", &T::fast_dev_run).doc("run N batches of train/val/test as a sanity check").min(0);
  s.field("overfit_batches", &T::overfit_batches)
      .doc("train on the same first N batches every epoch, unshuffled (fraction <= 1 or count)")
      .min(0.0);
  s.field("num_sanity_val_steps", &T::num_sanity_val_steps).doc("val batches run before training").min(-1);
  s.field("log_every_n_steps", &T::log_every_n_steps).doc("log metrics every N steps").min(1);
  s.field("deterministic", &T::deterministic).doc("bitwise-repeatable kernels and data order");
  s.field("precision", &T::precision).doc("numeric precision").choices({"32", "bf16-mixed", "16-mixed"});
  s.field("float32_matmul_precision", &T::float32_matmul_precision)
      .doc("float32 matrix products: highest, high (TF32 on CUDA) or medium (null: LibTorch's)")
      .choices({"highest", "high", "medium"});
  s.field("accelerator", &T::accelerator).doc("device kind").choices({"cpu", "cuda", "auto"});
  s.field("devices", &T::devices).doc("processes (one per device) to train with").min(1);
  s.field("num_threads", &T::num_threads).doc("intra-op threads (null: the cores available to the process)").min(1);
  s.field("strategy", &T::strategy)
      .doc(
          "auto/ddp: DDP when launched with WORLD_SIZE > 1 (kiln launch, torchrun, SLURM); zero1: + optimizer "
          "state sharded; zero2: + gradients sharded; zero3 or fsdp: + parameters sharded, gathered per layer")
      .choices({"auto", "ddp", "zero1", "zero2", "zero3", "fsdp"});
  s.field("bucket_cap_mb", &T::bucket_cap_mb).doc("DDP/ZeRO: gradient bucket size in MB").min(0.0);
  s.field("process_group_timeout", &T::process_group_timeout)
      .doc("DDP: seconds a rank waits for the others before failing")
      .min(0.0);
  s.field("process_group_backend", &T::process_group_backend)
      .doc("collectives backend: auto (nccl on CUDA, gloo on CPU), gloo or nccl")
      .choices({"auto", "gloo", "nccl"});
  s.field("enable_checkpointing", &T::enable_checkpointing)
      .doc("write checkpoints to <run>/checkpoints (callbacks.model_checkpoint decides when)");
  s.field("resume", &T::resume).doc("continue from 'last' (this run's latest checkpoint) or a checkpoint/run path");
  return s;
}

}  // namespace kiln
