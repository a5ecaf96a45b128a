// A training job from a resolved config: what `kiln train` runs.
//
// The config's subtrees name what to build: `model` (a models::Network),
// `module` (a kiln::Module factory that receives the network; absent:
// `classification`, a ClassificationModule), `data` (a data::DataModule),
// `optimizer` and optionally `scheduler` (registry kinds), `trainer`
// (TrainerOptions) and `seed`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/track/logger.h"
#include "kiln/train/trainer_options.h"

namespace kiln {

class Module;
class Trainer;

struct JobResult {
  Metrics metrics;  // the last value of every metric (val/*, test/*, train/*)
  std::int64_t steps = 0;
  double seconds = 0;
  double samples_per_second = 0;
  std::vector<std::pair<std::string, std::uint64_t>> data_files;  // path, size: what the data module read
};

// The numeric runtime as a JSON object's text (see JobRunner::describe_runtime).
std::string describe_torch_runtime();

// Registers the built-in models, data modules, optimizers, schedulers,
// losses, metrics and modules.
// Idempotent.
void register_builtin_factories();

// The Module a job trains, from `model:` and `module:` (classification when
// absent), with freshly initialised weights: what a checkpoint's tensors
// load into. Throws ConfigError.
std::shared_ptr<Module> make_job_module(const config::Node& resolved);

// Checks every factory's parameters and the trainer options without
// building anything; throws one ConfigError listing every problem, with the
// sources the config came from.
void validate_training_job(const config::Node& resolved);

// The Trainer `kiln train` runs, with `options` (the caller's copy of the
// `trainer:` section): optimizer and scheduler from their sections, JSONL
// and TensorBoard loggers and checkpoints in run_dir, the `callbacks:`.
// Benchmarks use it to measure exactly the job's loop.
std::unique_ptr<Trainer> make_job_trainer(const config::Node& resolved, const std::filesystem::path& run_dir,
                                          TrainerOptions options);

// Seeds, builds, fits and tests (when the data has a test split); metrics go to run_dir/metrics.jsonl, the
// TensorBoard files and `extra_loggers` (not owned; they must outlive the
// call), progress to stderr. Throws ConfigError (bad config), IoError
// (files) or kiln::Error.
JobResult run_training_job(const config::Node& resolved, const std::filesystem::path& run_dir,
                           const std::vector<Logger*>& extra_loggers = {});

}  // namespace kiln
