#include "job_schemas.h"

#include <optional>
#include <string>

#include "kiln/config/schema.h"

namespace kiln::cli {
namespace {
namespace cfg = kiln::config;

// Keys at the top of a job config. Open: model, optimizer, scheduler and
// data subtrees are checked by their `_target_` factories, not here.
struct JobConfig {
  std::string experiment = "default";
  std::int64_t seed = 42;
};

struct RunConfig {
  std::string name;
  std::string dir = "runs";
};

// PyTorch Lightning's Trainer arguments, by their Lightning names.
struct TrainerConfig {
  std::int64_t max_epochs = 1000;
  std::int64_t max_steps = -1;
  std::optional<std::string> max_time;
  std::int64_t accumulate_grad_batches = 1;
  std::optional<double> gradient_clip_val;
  std::string gradient_clip_algorithm = "norm";
  double val_check_interval = 1.0;
  std::optional<std::int64_t> check_val_every_n_epoch = 1;
  double limit_train_batches = 1.0;
  double limit_val_batches = 1.0;
  double limit_test_batches = 1.0;
  std::int64_t fast_dev_run = 0;
  double overfit_batches = 0.0;
  std::int64_t num_sanity_val_steps = 2;
  std::int64_t log_every_n_steps = 50;
  bool deterministic = true;
  std::string precision = "32";
  std::string accelerator = "cpu";
  std::int64_t devices = 1;
  std::optional<std::int64_t> num_threads;
};

cfg::Schema<JobConfig> job_schema() {
  cfg::Schema<JobConfig> s("job", cfg::SchemaOptions{.allow_unknown_keys = true, .doc = "Run-level settings"});
  s.field("experiment", &JobConfig::experiment).doc("experiment name the run is filed under");
  s.field("seed", &JobConfig::seed).doc("global random seed").range(0, 4294967295);
  return s;
}

cfg::Schema<RunConfig> run_schema() {
  cfg::Schema<RunConfig> s("run", cfg::SchemaOptions{.doc = "The run's name and where its directory goes"});
  s.field("name", &RunConfig::name).doc("human-readable run name (the id stays unique)");
  s.field("dir", &RunConfig::dir).doc("root of the run directories");
  return s;
}

cfg::Schema<TrainerConfig> trainer_schema() {
  cfg::Schema<TrainerConfig> s("trainer", cfg::SchemaOptions{.doc = "Trainer (PyTorch Lightning's names)"});
  s.field("max_epochs", &TrainerConfig::max_epochs).doc("stop after this many epochs (-1: no limit)").min(-1);
  s.field("max_steps", &TrainerConfig::max_steps).doc("stop after this many optimizer steps (-1: no limit)").min(-1);
  s.field("max_time", &TrainerConfig::max_time).doc("stop after this wall time, DD:HH:MM:SS");
  s.field("accumulate_grad_batches", &TrainerConfig::accumulate_grad_batches).doc("batches per optimizer step").min(1);
  s.field("gradient_clip_val", &TrainerConfig::gradient_clip_val)
      .doc("clip gradients at this value (null: off)")
      .min(0.0);
  s.field("gradient_clip_algorithm", &TrainerConfig::gradient_clip_algorithm)
      .doc("how gradient_clip_val applies")
      .choices({"norm", "value"});
  s.field("val_check_interval", &TrainerConfig::val_check_interval)
      .doc("validate every fraction of an epoch (<= 1) or every N batches")
      .min(0.0);
  s.field("check_val_every_n_epoch", &TrainerConfig::check_val_every_n_epoch)
      .doc("validate every N epochs (null: by val_check_interval only)")
      .min(1);
  s.field("limit_train_batches", &TrainerConfig::limit_train_batches)
      .doc("fraction (<= 1) or count of train batches")
      .min(0.0);
  s.field("limit_val_batches", &TrainerConfig::limit_val_batches)
      .doc("fraction (<= 1) or count of val batches")
      .min(0.0);
  s.field("limit_test_batches", &TrainerConfig::limit_test_batches)
      .doc("fraction (<= 1) or count of test batches")
      .min(0.0);
  s.field("fast_dev_run", &TrainerConfig::fast_dev_run).doc("run N batches of train/val/test as a sanity check").min(0);
  s.field("overfit_batches", &TrainerConfig::overfit_batches)
      .doc("train on this fraction or count of batches")
      .min(0.0);
  s.field("num_sanity_val_steps", &TrainerConfig::num_sanity_val_steps).doc("val batches run before training").min(-1);
  s.field("log_every_n_steps", &TrainerConfig::log_every_n_steps).doc("log metrics every N steps").min(1);
  s.field("deterministic", &TrainerConfig::deterministic).doc("bitwise-repeatable kernels and data order");
  s.field("precision", &TrainerConfig::precision).doc("numeric precision").choices({"32", "bf16-mixed", "16-mixed"});
  s.field("accelerator", &TrainerConfig::accelerator).doc("device kind").choices({"cpu", "cuda", "auto"});
  s.field("devices", &TrainerConfig::devices).doc("processes (one per device) to train with").min(1);
  s.field("num_threads", &TrainerConfig::num_threads)
      .doc("intra-op threads (null: the cores available to the process)")
      .min(1);
  return s;
}

}  // namespace

void register_builtin_job_schemas() {
  static const bool registered = [] {
    cfg::register_job_schema("", job_schema());
    cfg::register_job_schema("run", run_schema());
    cfg::register_job_schema("trainer", trainer_schema());
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::cli
