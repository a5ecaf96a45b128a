// The training loop. Trainer::train_epoch is the hot loop: it reads top to
// bottom as one step does its work, and it never calls .item() (a host sync)
// except at logging steps.
#include "kiln/train/trainer.h"

#include <cxxabi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <typeinfo>

#include "kiln/config/error.h"
#include "kiln/dist/ddp.h"
#include "kiln/dist/launcher.h"
#include "kiln/dist/process_group.h"
#include "kiln/dist/world.h"
#include "kiln/dist/zero.h"
#include "kiln/error.h"
#include "kiln/models/network.h"
#include "kiln/train/grad_clip.h"

namespace kiln {
namespace {

config::ConfigError option_error(const std::string& key, const std::string& message) {
  return config::ConfigError(
      config::Diagnostic{"trainer." + key, config::Source::generated("trainer options"), message, ""});
}

// "DD:HH:MM:SS" (or fewer fields, the last being seconds) in seconds.
double parse_max_time(const std::string& text) {
  double seconds = 0;
  double unit = 1;
  std::vector<double> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t colon = text.find(':', start);
    std::string part = text.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos)
      throw option_error("max_time", "expected DD:HH:MM:SS (e.g. 00:01:30:00), found '" + text + "'");
    fields.push_back(std::stod(part));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (fields.size() > 4) throw option_error("max_time", "expected at most 4 fields DD:HH:MM:SS, found '" + text + "'");
  static constexpr double kUnits[] = {1, 60, 3600, 86400};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    unit = kUnits[i];
    seconds += fields[fields.size() - 1 - i] * unit;
  }
  return seconds;
}

// The dynamic type of `object`, readable ("kiln::data::FashionMnistDataModule").
template <class T>
std::string type_name(const T& object) {
  int status = 0;
  char* name = abi::__cxa_demangle(typeid(object).name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name ? name : typeid(object).name();
  std::free(name);
  return out;
}

// Moves `module` to `device` unless it is there already (the common CPU
// case then leaves the parameters untouched).
void place(torch::nn::Module& module, const torch::Device& device) {
  for (const torch::Tensor& t : module.parameters())
    if (t.device() != device) return module.to(device);
  for (const torch::Tensor& t : module.buffers())
    if (t.device() != device) return module.to(device);
}

// `kiln train trainer.devices=N` starts N workers itself; a launcher must
// have started as many on this node as the config asks for.
void check_devices(std::int64_t devices, const dist::World& world, bool alone_is_fine) {
  if (devices == 1 || devices == world.local_world_size || (alone_is_fine && !world.distributed())) return;
  throw option_error("devices",
                     "the config asks for " + std::to_string(devices) + " devices, but " +
                         (world.distributed() ? "the launcher started " + std::to_string(world.local_world_size) +
                                                    " ranks on this node (LOCAL_WORLD_SIZE)"
                                              : std::string("this process was started alone")) +
                         "; run `kiln train trainer.devices=N` without a launcher, or match "
                         "--nproc-per-node");
}

}  // namespace

void seed_everything(std::uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

Trainer::Trainer(TrainerOptions options) : options_(std::move(options)) {
  if (options_.accelerator == "cuda" && !torch::cuda::is_available())
    throw option_error("accelerator", "'cuda' was asked for but no CUDA device is available");
  const bool cuda = options_.accelerator == "cuda" || (options_.accelerator == "auto" && torch::cuda::is_available());
  // One device per rank on a node: LOCAL_RANK's (torchrun's convention).
  const int local_rank = dist::world_from_env().local_rank;
  if (cuda && local_rank >= static_cast<int>(torch::cuda::device_count()))
    throw option_error("accelerator", "this is local rank " + std::to_string(local_rank) + ", but the node has " +
                                          std::to_string(torch::cuda::device_count()) +
                                          " CUDA devices: start at most one rank per device");
  device_ = cuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank)) : torch::Device(torch::kCPU);
  if (options_.process_group_backend == "nccl" && !cuda)
    throw option_error("process_group_backend",
                       "'nccl' runs collectives on CUDA devices, but this run's accelerator is cpu; use gloo (or "
                       "auto), or accelerator=cuda");
  if (options_.process_group_backend == "nccl" && !dist::nccl_available())
    throw option_error("process_group_backend",
                       "'nccl' is not in this build (LibTorch without CUDA); use gloo (or auto)");
  try {
    precision_ = train::parse_precision(options_.precision);
  } catch (const Error& e) {
    throw option_error("precision", e.what());
  }
  if (precision_ == train::Precision::k16Mixed) {
    if (!cuda)
      throw config::ConfigError(config::Diagnostic{
          "trainer.precision", config::Source::generated("trainer options"),
          "'16-mixed' needs CUDA (float16 autocast with a gradient scaler), but this run's accelerator is cpu",
          "use precision=bf16-mixed on CPU, or accelerator=cuda on a machine with a GPU"});
    scaler_ = std::make_unique<GradScaler>();
  }
  // Alone, `kiln train trainer.devices=N` is about to start the N workers.
  check_devices(options_.devices, dist::world_from_env(), /*alone_is_fine=*/true);
  if (options_.max_time) max_seconds_ = parse_max_time(*options_.max_time);
  if (options_.fast_dev_run > 0) {
    options_.max_epochs = 1;
    options_.max_steps = -1;
    options_.num_sanity_val_steps = 0;
    options_.val_check_interval = 1.0;
    options_.check_val_every_n_epoch = 1;
  }
  if (options_.max_epochs < 0 && options_.max_steps < 0 && max_seconds_ < 0)
    throw option_error("max_epochs",
                       "max_epochs is -1 (no limit) but neither max_steps nor max_time would stop the run");
}

Trainer& Trainer::add_callback(std::shared_ptr<Callback> callback) {
  callbacks_.push_back(std::move(callback));
  return *this;
}
Trainer& Trainer::add_logger(std::shared_ptr<Logger> logger) {
  loggers_.push_back(std::move(logger));
  return *this;
}
Trainer& Trainer::set_optimizer_factory(OptimizerFactory factory) {
  optimizer_factory_ = std::move(factory);
  return *this;
}
Trainer& Trainer::set_lr_schedule(LrScheduleFactory factory) {
  lr_schedule_factory_ = std::move(factory);
  return *this;
}

double Trainer::fit_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start_).count();
}

bool Trainer::out_of_time() const { return max_seconds_ >= 0 && fit_seconds() >= max_seconds_; }

// A fraction (<= 1.0) of the batches, at least one when positive, or a count
// (> 1.0). Lightning tells 1 (one batch) from 1.0 (all) by type; kiln's
// option is a float, so one batch is fast_dev_run=1 or a count of 2 and up.
std::int64_t Trainer::batch_limit(double limit, std::size_t available) const {
  auto n = static_cast<std::int64_t>(available);
  if (options_.fast_dev_run > 0) return std::min<std::int64_t>(n, options_.fast_dev_run);
  if (limit > 1.0) return std::min<std::int64_t>(n, static_cast<std::int64_t>(limit));
  if (limit <= 0.0) return 0;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(limit * static_cast<double>(n))));
}

std::int64_t Trainer::train_limit(std::size_t available) const {
  if (options_.overfit_batches > 0 && options_.fast_dev_run == 0)
    return batch_limit(options_.overfit_batches, available);
  return batch_limit(options_.limit_train_batches, available);
}

std::int64_t Trainer::val_limit(std::size_t available) const {
  if (options_.overfit_batches > 0 && options_.fast_dev_run == 0)
    return batch_limit(options_.overfit_batches, available);
  return batch_limit(options_.limit_val_batches, available);
}

data::Batch Trainer::to_device(data::Batch batch) const {
  if (device_.is_cpu()) return batch;
  return data::Batch{batch.input.to(device_, /*non_blocking=*/true), batch.target.to(device_, /*non_blocking=*/true)};
}

void Trainer::publish(const Metrics& local) {
  if (local.empty()) return;
  const Metrics metrics = dist_ ? average_over_ranks(local) : local;
  for (const auto& [name, value] : metrics) callback_metrics_[name] = value;
  if (options_.fast_dev_run > 0) return;  // a sanity check logs nothing
  if (!is_global_zero()) return;
  for (auto& logger : loggers_) logger->log_metrics(metrics, global_step_);
}

int Trainer::global_rank() const { return dist_ ? dist_->world.rank : 0; }

int Trainer::world_size() const { return dist_ ? dist_->world.world_size : 1; }

void Trainer::setup_data_parallel(data::DataModule& data) {
  grad_sync_.reset();
  dist_.reset();
  dist::World world = dist::world_from_env();
  check_devices(options_.devices, world, /*alone_is_fine=*/false);
  // One process: no group for `auto`; an explicit strategy gets a group of
  // one, as Lightning's does, so its code paths run (and can be checked on a
  // single device). Without a launcher its store takes a free local port.
  if (!world.distributed() && options_.strategy == "auto") return;
  if (!world.distributed() && world.launcher == dist::Launcher::kNone) world.master_port = dist::free_loopback_port();
  dist::ProcessGroupOptions options;
  options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(options_.process_group_timeout * 1000));
  options.backend = options_.process_group_backend != "auto"      ? options_.process_group_backend
                    : device_.is_cuda() && dist::nccl_available() ? "nccl"
                                                                  : "gloo";
  dist_ = std::make_shared<dist::DistributedContext>(dist::init_process_group(world, options));
  data.set_replica(static_cast<std::size_t>(world.rank), static_cast<std::size_t>(world.world_size));
}

std::shared_ptr<torch::optim::Optimizer> Trainer::make_optimizer(Module& module) {
  std::shared_ptr<torch::optim::Optimizer> own = module.configure_optimizers();
  const int zero_stage = !dist_                                                        ? 0
                         : options_.strategy == "zero1"                                ? 1
                         : options_.strategy == "zero2"                                ? 2
                         : options_.strategy == "zero3" || options_.strategy == "fsdp" ? 3
                                                                                       : 0;
  const auto bucket_bytes = static_cast<std::size_t>(options_.bucket_cap_mb * 1024 * 1024);
  if (zero_stage > 0) {
    if (own)
      throw option_error("strategy", "'" + options_.strategy +
                                         "' shards the optimizer it builds from the config, but the Module's "
                                         "configure_optimizers returned its own; use strategy=ddp for that Module");
    if (scaler_) throw option_error("strategy", "'" + options_.strategy + "' does not run with precision=16-mixed yet");
    if (!optimizer_factory_) throw Error("no optimizer: ZeRO needs the optimizer from the config (optimizer:)");
    dist::ZeroOptions zero_options;
    zero_options.stage = zero_stage;
    zero_options.bucket_cap_bytes = bucket_bytes;
    // Stage 3 gathers the layers of the Module's networks one at a time (the
    // units they name); parameters outside them, as with a Module of plain
    // layers, are gathered for the whole step.
    sharded_networks_.clear();
    if (zero_stage == 3) {
      for (const auto& child : module.modules())
        if (auto network = std::dynamic_pointer_cast<models::Network>(child)) {
          sharded_networks_.push_back(network);
          for (auto& unit : network->sharding_units()) zero_options.units.push_back(unit);
        }
    }
    zero_ = std::make_shared<dist::ZeroOptimizer>(module, dist_->group, optimizer_factory_, zero_options, dist_->watch);
    zero_->broadcast_from_rank_zero();
    for (auto& network : sharded_networks_) network->set_unit_hooks(zero_->unit_hooks());
    return zero_->optimizer_ptr();
  }
  if (dist_) {
    grad_sync_ =
        std::make_shared<dist::GradientSync>(module, dist_->group, dist::DdpOptions{bucket_bytes}, dist_->watch);
    grad_sync_->broadcast_from_rank_zero();
  }
  if (own) return own;
  if (!optimizer_factory_) throw Error("no optimizer: the Module has no configure_optimizers and none was configured");
  return optimizer_factory_(module.parameters());
}

std::shared_ptr<void> Trainer::summon_full_params() {
  if (!zero_) return nullptr;
  return std::make_shared<dist::FullParameters>(zero_->summon_full_params());  // empty below stage 3
}

void Trainer::end_sharding() {
  for (auto& network : sharded_networks_) network->set_unit_hooks(nullptr);
  sharded_networks_.clear();
  if (!zero_) return;
  // Gathered and never released: after fit the Module is whole again, for
  // test(), predict() and the caller (nothing to gather below stage 3).
  zero_->summon_full_params().keep();
  zero_.reset();
}

Metrics Trainer::average_over_ranks(const Metrics& metrics) const {
  // std::map order: every rank packs the same keys in the same order.
  std::vector<double> values;
  for (const auto& [name, value] : metrics) values.push_back(value);
  torch::Tensor packed = torch::tensor(values, torch::kFloat64);
  std::vector<torch::Tensor> tensors{packed};
  dist_->watch->wait(dist_->group->allreduce(tensors), "all-reduce of the logged metrics");
  packed.div_(static_cast<double>(dist_->world.world_size));
  Metrics out;
  std::size_t i = 0;
  for (const auto& [name, value] : metrics) out[name] = packed[static_cast<std::int64_t>(i++)].item<double>();
  return out;
}

void Trainer::log_histogram(const std::string& tag, const torch::Tensor& values) {
  if (options_.fast_dev_run > 0 || !values.defined()) return;
  torch::Tensor host = values.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::vector<float> flat(host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
  for (auto& logger : loggers_) logger->log_histogram(tag, flat, global_step_);
}

Metrics Trainer::evaluate(Module& module, data::BatchLoader* loader, Stage stage, std::int64_t limit) {
  if (!loader || limit == 0) return {};
  torch::NoGradGuard no_grad;
  bool was_training = module.is_training();
  module.eval();
  LogBuffer logs;
  module.log_sink_ = &logs;
  if (zero_) zero_->gather_root_parameters();
  loader->start_epoch(0);
  std::int64_t index = 0;
  while (index < limit) {
    std::optional<data::Batch> batch = loader->next();
    if (!batch) break;
    data::Batch on_device = to_device(std::move(*batch));
    train::AutocastGuard autocast(precision_, device_);
    if (stage == Stage::kValidate) {
      module.validation_step(on_device, index);
    } else {
      module.test_step(on_device, index);
    }
    ++index;
  }
  module.log_sink_ = nullptr;
  module.train(was_training);
  if (zero_) zero_->release_parameters();
  return logs.take_means();
}

void Trainer::run_validation(Module& module, data::BatchLoader* val) {
  if (!val) return;
  for (auto& callback : callbacks_) callback->on_validation_start(*this, module);
  Metrics metrics = evaluate(module, val, Stage::kValidate, val_limit(val->size()));
  if (metrics.empty()) return;
  metrics["epoch"] = static_cast<double>(epoch_);
  publish(metrics);
  for (auto& callback : callbacks_) callback->on_validation_end(*this, module, metrics);
}

void Trainer::optimizer_step(Module& module, torch::optim::Optimizer& opt,
                             const std::function<double(std::int64_t, double)>& lr_at,
                             const std::vector<double>& base_lrs) {
  if (scaler_) scaler_->unscale_(opt);  // clip (and step) the true gradients
  if (options_.gradient_clip_val && zero_) {
    // The norm is the whole model's, summed over the ranks' shards.
    if (options_.gradient_clip_algorithm == "norm") {
      zero_->clip_grad_norm_(*options_.gradient_clip_val);
    } else {
      zero_->clip_grad_value_(*options_.gradient_clip_val);
    }
  } else if (options_.gradient_clip_val) {
    if (options_.gradient_clip_algorithm == "norm") {
      train::clip_grad_norm_(module.parameters(), *options_.gradient_clip_val);  // no host sync
    } else {
      torch::nn::utils::clip_grad_value_(module.parameters(), *options_.gradient_clip_val);
    }
  }
  if (scaler_) {
    scaler_->step(opt);  // skipped when a gradient is inf/NaN
    scaler_->update();
  } else {
    opt.step();
  }
  if (zero_) zero_->all_gather_parameters();
  opt.zero_grad();
  ++global_step_;
  if (lr_at) {
    for (std::size_t g = 0; g < opt.param_groups().size(); ++g)
      opt.param_groups()[g].options().set_lr(lr_at(global_step_, base_lrs[g]));
  }
  if (global_step_ % options_.log_every_n_steps == 0 && !train_logs_.empty()) {
    Metrics metrics = train_logs_.take_means();
    metrics["lr"] = opt.param_groups().front().options().get_lr();
    metrics["epoch"] = static_cast<double>(epoch_);
    publish(metrics);
  }
  for (auto& callback : callbacks_) callback->on_train_step_end(*this, module);
}

void Trainer::train_epoch(Module& module, data::BatchLoader& train, data::BatchLoader* val,
                          torch::optim::Optimizer& opt, const std::function<double(std::int64_t, double)>& lr_at,
                          const std::vector<double>& base_lrs) {
  const std::int64_t limit = train_limit(train.size());
  const std::int64_t accumulate = options_.accumulate_grad_batches;
  // Validation inside the epoch: a fraction of it, or every N batches.
  std::int64_t val_every =
      options_.val_check_interval > 1.0
          ? static_cast<std::int64_t>(options_.val_check_interval)
          : std::max<std::int64_t>(
                1, static_cast<std::int64_t>(std::floor(options_.val_check_interval * static_cast<double>(limit))));
  bool validate_this_epoch = options_.check_val_every_n_epoch && (epoch_ + 1) % *options_.check_val_every_n_epoch == 0;
  module.train();
  const std::int64_t first = std::min(start_batch_, limit);
  start_batch_ = 0;
  epoch_first_batch_ = first;
  for (auto& callback : callbacks_) callback->on_train_epoch_start(*this, module);
  module.log_sink_ = &train_logs_;
  // overfit_batches: the same batches every epoch, so always epoch 0's.
  train.start_epoch(options_.overfit_batches > 0 ? 0 : epoch_, static_cast<std::size_t>(first));
  for (std::int64_t index = first; index < limit; ++index) {
    std::optional<data::Batch> batch = train.next();
    if (!batch) break;
    batch = to_device(std::move(*batch));
    torch::Tensor loss;
    if (zero_) zero_->gather_root_parameters();
    {
      train::AutocastGuard autocast(precision_, device_);
      loss = module.training_step(*batch, index);
    }
    last_loss_ = loss.detach();  // no sync: a progress bar reads it now and then
    if (accumulate > 1) loss = loss / static_cast<double>(accumulate);
    if (scaler_) loss = scaler_->scale(loss);
    bool last = index + 1 == limit;
    bool stepped = (index + 1) % accumulate == 0 || last;
    // Accumulation steps only add up gradients locally (no_sync).
    if (grad_sync_) grad_sync_->set_sync(stepped);
    if (zero_) zero_->set_sync(stepped);
    loss.backward();
    samples_seen_ += batch->input.size(0) * world_size();
    if (stepped) {
      if (grad_sync_) grad_sync_->finish_gradient_sync();
      if (zero_) zero_->finish_gradient_sync();
      optimizer_step(module, opt, lr_at, base_lrs);
      if (options_.max_steps >= 0 && global_step_ >= options_.max_steps) should_stop_ = true;
      if (out_of_time()) should_stop_ = true;
    }
    if (validate_this_epoch && ((index + 1) % val_every == 0 || last)) {
      module.log_sink_ = nullptr;
      run_validation(module, val);
      module.log_sink_ = &train_logs_;
    }
    if (stepped) {
      // After this step's validation, so a checkpoint written from here on
      // resumes having seen the same validations (and EarlyStopping the same
      // history).
      resume_epoch_ = last ? epoch_ + 1 : epoch_;
      resume_batch_ = last ? 0 : index + 1;
    }
    module.log_sink_ = nullptr;
    for (auto& callback : callbacks_) callback->on_train_batch_end(*this, module);
    module.log_sink_ = &train_logs_;
    if (should_stop_) break;
  }
  module.log_sink_ = nullptr;
}

void Trainer::fit(Module& module, data::DataModule& data) {
  fit_start_ = std::chrono::steady_clock::now();
  // Ranks on one node share its cores (torchrun sets OMP_NUM_THREADS=1 for
  // the same reason; a share of the cores keeps some parallelism).
  const int ranks_here = dist::world_from_env().local_world_size;
  torch::set_num_threads(options_.num_threads ? static_cast<int>(*options_.num_threads)
                                              : std::max(1, available_cores() / ranks_here));
  at::globalContext().setDeterministicAlgorithms(options_.deterministic, false);
  if (options_.float32_matmul_precision)
    at::globalContext().setFloat32MatmulPrecision(*options_.float32_matmul_precision);
  should_stop_ = false;
  data.setup();
  setup_data_parallel(data);
  std::unique_ptr<data::BatchLoader> train;
  if (options_.overfit_batches > 0) train = data.sequential_train_loader();
  if (!train) train = data.train_loader();
  if (!train) throw Error("the DataModule has no train_loader, so there is nothing to fit");
  place(module, device_);
  if (scaler_) *scaler_ = GradScaler();
  std::unique_ptr<data::BatchLoader> val = data.val_loader();
  std::shared_ptr<torch::optim::Optimizer> opt = make_optimizer(module);
  batches_per_epoch_ = train_limit(train->size());
  const std::int64_t per_epoch =
      (batches_per_epoch_ + options_.accumulate_grad_batches - 1) / options_.accumulate_grad_batches;
  steps_per_epoch_ = per_epoch;
  total_steps_ =
      options_.max_steps >= 0 ? options_.max_steps : std::max<std::int64_t>(0, options_.max_epochs) * per_epoch;
  std::vector<double> base_lrs;
  for (auto& group : opt->param_groups()) base_lrs.push_back(group.options().get_lr());
  std::function<double(std::int64_t, double)> lr_at;
  if (lr_schedule_factory_) {
    lr_at = lr_schedule_factory_(total_steps_);
    for (std::size_t g = 0; g < base_lrs.size(); ++g) opt->param_groups()[g].options().set_lr(lr_at(0, base_lrs[g]));
  }

  epoch_ = 0;
  global_step_ = 0;
  samples_seen_ = 0;
  start_batch_ = 0;
  resume_epoch_ = 0;
  resume_batch_ = 0;
  last_loss_ = torch::Tensor();
  module_ = &module;
  optimizer_ = opt.get();
  add_default_checkpoint_callback();
  if (options_.resume) {
    std::filesystem::path where =
        *options_.resume == "last" ? checkpoint_root_ : std::filesystem::path(*options_.resume);
    if (where.empty()) throw Error("trainer.resume=last needs a checkpoint directory (set_checkpoint_root)");
    start_batch_ = resume_from(where, module, *opt);
    if (lr_at) {
      for (std::size_t g = 0; g < base_lrs.size(); ++g)
        opt->param_groups()[g].options().set_lr(lr_at(global_step_, base_lrs[g]));
    }
    resume_epoch_ = epoch_;
    resume_batch_ = start_batch_;
  }
  fit_start_step_ = global_step_;
  for (auto& callback : callbacks_) callback->on_fit_start(*this, module);
  if (options_.num_sanity_val_steps != 0 && val && !options_.resume) {
    // Sanity check: catch a broken validation_step before hours of training.
    std::int64_t n =
        options_.num_sanity_val_steps < 0 ? static_cast<std::int64_t>(val->size()) : options_.num_sanity_val_steps;
    evaluate(module, val.get(), Stage::kValidate, std::min<std::int64_t>(n, static_cast<std::int64_t>(val->size())));
  }
  bool done = options_.max_steps >= 0 && global_step_ >= options_.max_steps;
  for (; !done && (options_.max_epochs < 0 || epoch_ < options_.max_epochs); ++epoch_) {
    train_epoch(module, *train, val.get(), *opt, lr_at, base_lrs);
    for (auto& callback : callbacks_) callback->on_train_epoch_end(*this, module);
    if (should_stop_) break;
  }
  if (!train_logs_.empty()) publish(train_logs_.take_means());
  for (auto& callback : callbacks_) callback->on_fit_end(*this, module);
  grad_sync_.reset();  // its hooks go with it; the group stays for test()
  end_sharding();
  module_ = nullptr;
  optimizer_ = nullptr;
}

Metrics Trainer::validate(Module& module, data::DataModule& data) {
  data.setup();
  std::unique_ptr<data::BatchLoader> val = data.val_loader();
  if (!val) throw Error("the DataModule has no val_loader");
  place(module, device_);
  Metrics metrics = evaluate(module, val.get(), Stage::kValidate, val_limit(val->size()));
  publish(metrics);
  return metrics;
}

Metrics Trainer::test(Module& module, data::DataModule& data) {
  data.setup();
  std::unique_ptr<data::BatchLoader> test = data.test_loader();
  if (!test) throw Error("the DataModule has no test_loader");
  for (auto& callback : callbacks_) callback->on_test_start(*this, module);
  place(module, device_);
  Metrics metrics = evaluate(module, test.get(), Stage::kTest, batch_limit(options_.limit_test_batches, test->size()));
  publish(metrics);
  for (auto& callback : callbacks_) callback->on_test_end(*this, module, metrics);
  return metrics;
}

std::vector<torch::Tensor> Trainer::predict(Module& module, data::DataModule& data) {
  data.setup();
  std::unique_ptr<data::BatchLoader> loader = data.predict_loader();
  if (!loader)
    throw Error("the DataModule " + type_name(data) +
                " has no predict_loader, so there is nothing to predict (override DataModule::predict_loader)");
  place(module, device_);
  const std::int64_t limit = batch_limit(options_.limit_predict_batches, loader->size());
  torch::NoGradGuard no_grad;
  bool was_training = module.is_training();
  module.eval();
  std::vector<torch::Tensor> outputs;
  loader->start_epoch(0);
  for (std::int64_t index = 0; index < limit; ++index) {
    std::optional<data::Batch> batch = loader->next();
    if (!batch) break;
    data::Batch on_device = to_device(std::move(*batch));
    train::AutocastGuard autocast(precision_, device_);
    outputs.push_back(module.predict_step(on_device, index));
  }
  module.train(was_training);
  return outputs;
}

}  // namespace kiln
