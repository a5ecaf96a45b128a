#include "kiln/train/job.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <iostream>
#include <optional>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/data/builtin_datamodules.h"
#include "kiln/data/data_module.h"
#include "kiln/dist/world.h"
#include "kiln/models/network.h"
#include "kiln/track/json.h"
#include "kiln/track/tensorboard.h"
#include "kiln/train/callbacks.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/classification.h"
#include "kiln/train/losses.h"
#include "kiln/train/malloc_tuning.h"
#include "kiln/train/metrics.h"
#include "kiln/train/module_kind.h"
#include "kiln/train/optim.h"
#include "kiln/train/scheduler.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {

const config::Node& subtree(const config::Node& root, const std::string& key) {
  const config::Node* node = root.find(key);
  if (!node) {
    throw config::ConfigError(config::Diagnostic{key, root.source(), "a training job needs a '" + key + "' section",
                                                 "select one, e.g. " + key + "=<option>"});
  }
  return *node;
}

TrainerOptions trainer_options(const config::Node& root) {
  static const config::Node empty = config::Node::map();
  const config::Node* node = root.find("trainer");
  return trainer_options_schema().bind(node ? *node : empty, {"trainer"});
}

// TensorBoard's Text tab renders markdown: a 4-space indent keeps YAML as is.
std::string indent_as_markdown_code(const std::string& text) {
  std::string out = "    ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out;
}

// The names under `callbacks:` whose value is not null (null switches one
// off, like `~callbacks.<name>`), in config order: the order hooks run in.
std::vector<std::string> callback_names(const config::Node& root) {
  const config::Node* node = root.find("callbacks");
  if (!node || node->is_null()) return {};
  if (!node->is_map())
    throw config::ConfigError(config::Diagnostic{
        "callbacks", node->source(), "expected a map of name -> {_target_: ..., ...}, found " + node->scalar_text(),
        "e.g. callbacks: {timer: {_target_: timer, duration: 00:01:00:00}}"});
  std::vector<std::string> names;
  for (std::size_t i = 0; i < node->size(); ++i)
    if (!node->at(i).is_null()) names.push_back(node->keys()[i]);
  return names;
}

// The Module from the `module` section; `{_target_: classification}` when
// the section is absent or null.
std::shared_ptr<Module> build_module(const config::Node& root, std::shared_ptr<models::Network> network) {
  const config::Node* node = root.find("module");
  if (node && !node->is_null()) return instantiate_at<Module>(root, {"module"}, std::move(network));
  config::Node fallback = config::Node::map();
  fallback.set("_target_", config::Node::string("classification"));
  fallback.set_source_recursive(config::Source::generated("the default module"));
  return instantiate<Module>(fallback, std::move(network));
}

std::uint64_t seed_of(const config::Node& root) {
  const config::Node* seed = root.find("seed");
  return seed && seed->kind() == config::Kind::kInt ? static_cast<std::uint64_t>(seed->as_int()) : 42;
}

}  // namespace

std::shared_ptr<Module> make_job_module(const config::Node& resolved) {
  register_builtin_factories();
  subtree(resolved, "model");
  return build_module(resolved, instantiate_at<models::Network>(resolved, {"model"}));
}

void register_builtin_factories() {
  models::register_builtin_models();
  data::register_builtin_datamodules();
  train::register_builtin_optimizers();
  train::register_builtin_schedulers();
  register_builtin_callbacks();
  train::register_builtin_losses();
  train::register_builtin_metrics();
  register_builtin_modules();
}

void validate_training_job(const config::Node& resolved) {
  register_builtin_factories();
  config::Diagnostics problems;
  problems.collect([&] { registry<models::Network>().validate_at(resolved, {"model"}, problems); });
  problems.collect([&] { registry<data::DataModule>().validate_at(resolved, {"data"}, problems); });
  problems.collect([&] { registry<torch::optim::Optimizer>().validate_at(resolved, {"optimizer"}, problems); });
  if (resolved.contains("scheduler") && !resolved.find("scheduler")->is_null())
    problems.collect([&] { registry<train::LrScheduler>().validate_at(resolved, {"scheduler"}, problems); });
  problems.collect([&] {
    for (const std::string& name : callback_names(resolved))
      registry<Callback>().validate_at(resolved, {"callbacks", name}, problems);
  });
  if (resolved.contains("module") && !resolved.find("module")->is_null())
    problems.collect([&] { registry<Module>().validate_at(resolved, {"module"}, problems); });
  // Building a Trainer checks what the schema cannot: max_time's format,
  // 16-mixed without CUDA, a cuda accelerator without a device.
  problems.collect([&] { Trainer trainer(trainer_options(resolved)); });
  problems.throw_if_any();
}

std::unique_ptr<Trainer> make_job_trainer(const config::Node& resolved, const std::filesystem::path& run_dir,
                                          TrainerOptions options) {
  register_builtin_factories();
  train::keep_freed_memory_for_reuse();
  auto optimizer = partial<torch::optim::Optimizer>(subtree(resolved, "optimizer"), {"optimizer"});
  auto trainer = std::make_unique<Trainer>(options);
  trainer->set_checkpoint_root(run_dir / "checkpoints");
  trainer->set_optimizer_factory(
      [optimizer](std::vector<torch::Tensor> params) { return optimizer(std::move(params)); });
  const config::Node* scheduler_node = resolved.find("scheduler");
  if (scheduler_node && !scheduler_node->is_null()) {
    auto scheduler = partial<train::LrScheduler>(*scheduler_node, {"scheduler"});
    trainer->set_lr_schedule([scheduler](std::int64_t total_steps) {
      std::shared_ptr<train::LrScheduler> schedule = scheduler(total_steps);
      return [schedule](std::int64_t step, double base) { return schedule->lr(step, base); };
    });
  }
  // Under a launcher every rank shares the run directory; rank zero writes
  // its files (the other ranks' own log is train.rank<R>.log).
  if (dist::world_from_env().rank == 0) {
    trainer->add_logger(std::make_shared<JsonlLogger>((run_dir / "metrics.jsonl").string()));
    // `tensorboard --logdir runs/` shows every run; the config is in its Text tab.
    auto tensorboard = std::make_shared<track::TensorBoardLogger>(run_dir / "tb");
    tensorboard->add_text("config", indent_as_markdown_code(config::to_yaml(resolved)));
    trainer->add_logger(tensorboard);
  }
  for (const std::string& name : callback_names(resolved))
    trainer->add_callback(instantiate_at<Callback>(resolved, {"callbacks", name}));
  return trainer;
}

JobResult run_training_job(const config::Node& resolved, const std::filesystem::path& run_dir,
                           const std::vector<Logger*>& extra_loggers) {
  register_builtin_factories();
  seed_everything(seed_of(resolved));
  std::shared_ptr<Module> module_ptr = make_job_module(resolved);
  Module& module = *module_ptr;
  subtree(resolved, "data");
  std::shared_ptr<data::DataModule> data = instantiate_at<data::DataModule>(resolved, {"data"});

  TrainerOptions options = trainer_options(resolved);
  // A run directory given to resume from means its checkpoints.
  if (options.resume && *options.resume != "last" &&
      std::filesystem::is_directory(std::filesystem::path(*options.resume) / "checkpoints"))
    options.resume = (std::filesystem::path(*options.resume) / "checkpoints").string();
  // A group that `kiln launch --max-restarts` or torchrun started again after
  // a failure shares the run id, so the run directory, of the first attempt:
  // it goes on from that attempt's last checkpoint instead of from scratch.
  if (const int restart = dist::world_from_env().restart_count; !options.resume && restart > 0) {
    if (std::optional<std::filesystem::path> last = train::find_checkpoint(run_dir / "checkpoints")) {
      std::cerr << "kiln: restart " << restart << " of the group: resuming from " << last->string() << "\n";
      options.resume = "last";
    }
  }
  std::unique_ptr<Trainer> trainer_ptr = make_job_trainer(resolved, run_dir, options);
  Trainer& trainer = *trainer_ptr;
  // Not owned: an empty owner with the pointer aliased.
  for (Logger* logger : extra_loggers) trainer.add_logger(std::shared_ptr<Logger>(std::shared_ptr<Logger>(), logger));

  trainer.fit(module, *data);
  JobResult result;
  result.steps = trainer.global_step();
  result.seconds = trainer.fit_seconds();
  result.samples_per_second = result.seconds > 0 ? static_cast<double>(trainer.samples_seen()) / result.seconds : 0;
  // Data without a test split (a token file with only train and val parts)
  // ends the job after fit, as Lightning's fit-only scripts do.
  if (data->test_loader())
    trainer.test(module, *data);
  else if (dist::world_from_env().rank == 0)
    std::cerr << "kiln: no test stage: the DataModule has no test data\n";
  result.metrics = trainer.callback_metrics();
  for (const data::DataFile& file : data->files()) result.data_files.emplace_back(file.path, file.size);
  return result;
}

std::string describe_torch_runtime() {
  track::JsonValue out = track::JsonValue::object();
  out.set("libtorch", track::JsonValue::string(TORCH_VERSION));
  out.set("intra_op_threads", track::JsonValue::number(static_cast<std::int64_t>(at::get_num_threads())));
  out.set("inter_op_threads", track::JsonValue::number(static_cast<std::int64_t>(at::get_num_interop_threads())));
  out.set("deterministic_algorithms", track::JsonValue::boolean(at::globalContext().deterministicAlgorithms()));
  track::JsonValue cuda = track::JsonValue::object();
  bool has_cuda = torch::cuda::is_available();
  cuda.set("available", track::JsonValue::boolean(has_cuda));
  if (has_cuda) {
    cuda.set("device_count", track::JsonValue::number(static_cast<std::int64_t>(torch::cuda::device_count())));
    cuda.set("cudnn", track::JsonValue::number(static_cast<std::int64_t>(at::detail::getCUDAHooks().versionCuDNN())));
  }
  out.set("cuda", std::move(cuda));
  // Compiler, BLAS/LAPACK, CPU capability, CUDA/cuDNN/NCCL versions: what
  // LibTorch itself reports about its build.
  out.set("build_config", track::JsonValue::string(at::show_config()));
  return track::to_json(out);
}

}  // namespace kiln
