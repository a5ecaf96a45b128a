// What a Trainer checkpoint holds, and how fit resumes from one. Everything
// that decides the rest of the run is saved, so a resumed fit is bitwise the
// fit that was never interrupted (on CPU):
//   model.safetensors   parameters and buffers, by their module path
//   optimizer.pt        LibTorch's own archive of the optimizer state, or under
//                       ZeRO (sharded): zero.json (stage, ranks, flat layout) and
//                       optimizer.rank<R>.pt, each rank's archive of its shard
//   rng.safetensors     every generator's state
//   state.json          epoch, next batch, global step, samples, callback states,
//                       and the GradScaler's scale and growth tracker (16-mixed only)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <vector>

#include "kiln/dist/zero.h"
#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/model_checkpoint.h"
#include "kiln/train/rng_state.h"
#include "kiln/train/trainer.h"
#include "zero_checkpoint.h"

namespace kiln {
namespace {

train::TensorMap module_tensors(torch::nn::Module& module) {
  train::TensorMap tensors;
  for (const auto& item : module.named_parameters()) tensors[item.key()] = item.value().detach();
  for (const auto& item : module.named_buffers()) tensors[item.key()] = item.value().detach();
  return tensors;
}

// Where each trainable parameter lies in ZeRO's flat space, by module path,
// so the shards can be read without kiln (docs/formats.md).

std::int64_t required_int(const track::JsonValue& state, const char* key, const std::filesystem::path& dir) {
  const track::JsonValue* value = state.find(key);
  if (!value || !value->as_int64())
    throw IoError("checkpoint '" + dir.string() + "': state.json has no integer '" + key + "'");
  return *value->as_int64();
}

// The scale as a hexadecimal float literal ("0x1p+16"): exact, and JSON
// numbers here are integers only.
track::JsonValue scaler_state(const GradScaler& scaler) {
  char scale[64];
  std::snprintf(scale, sizeof scale, "%a", scaler.get_scale());
  track::JsonValue state = track::JsonValue::object();
  state.set("scale", track::JsonValue::string(scale));
  state.set("growth_tracker", track::JsonValue::number(scaler.growth_tracker()));
  return state;
}

void load_scaler_state(const track::JsonValue* state, GradScaler& scaler, const std::filesystem::path& dir) {
  const track::JsonValue* scale = state && state->is_object() ? state->find("scale") : nullptr;
  const track::JsonValue* tracker = state && state->is_object() ? state->find("growth_tracker") : nullptr;
  if (!scale || !scale->is_string() || !tracker || !tracker->as_int64())
    throw IoError("checkpoint '" + dir.string() +
                  "': state.json has no grad_scaler state (was it written by a run with another precision?)");
  char* end = nullptr;
  double value = std::strtod(scale->text().c_str(), &end);
  if (end == scale->text().c_str() || *end != '\0')
    throw IoError("checkpoint '" + dir.string() + "': grad_scaler.scale '" + scale->text() + "' is not a number");
  scaler.load_state(GradScaler::State{value, *tracker->as_int64()});
}

}  // namespace

void train::load_model_part(const train::Checkpoint& checkpoint, torch::nn::Module& module) {
  const std::filesystem::path& dir = checkpoint.dir();
  torch::NoGradGuard no_grad;
  const train::TensorMap& saved = checkpoint.tensors("model");
  train::TensorMap current = module_tensors(module);
  for (auto& [name, tensor] : current) {
    auto it = saved.find(name);
    if (it == saved.end())
      throw IoError("checkpoint '" + dir.string() + "' has no tensor '" + name + "' for this model (another model?)");
    if (it->second.sizes() != tensor.sizes() || it->second.scalar_type() != tensor.scalar_type())
      throw IoError("checkpoint '" + dir.string() + "': tensor '" + name +
                    "' has another shape or dtype than the model's");
    tensor.copy_(it->second);
  }
  if (saved.size() != current.size())
    throw IoError("checkpoint '" + dir.string() + "' holds tensors this model does not have (another model?)");
}

Trainer& Trainer::set_checkpoint_root(std::filesystem::path root) {
  checkpoint_root_ = std::move(root);
  return *this;
}

bool Trainer::can_checkpoint() const {
  // Data parallel: every rank holds the same weights; rank zero writes them.
  // Under ZeRO every rank takes part (its optimizer shard is gathered), and
  // every rank's ModelCheckpoint decides alike: the metrics it reads are
  // averaged over ranks.
  return module_ && optimizer_ && !checkpoint_root_.empty() && options_.enable_checkpointing &&
         options_.fast_dev_run == 0 && (is_global_zero() || zero_);
}

void Trainer::add_default_checkpoint_callback() {
  auto is_checkpoint = [](const std::shared_ptr<Callback>& c) { return dynamic_cast<ModelCheckpoint*>(c.get()); };
  // Checkpoint callbacks run last, as in Lightning: a checkpoint written in
  // a hook then records every other callback's state after that hook.
  std::stable_partition(callbacks_.begin(), callbacks_.end(), [&](const auto& c) { return !is_checkpoint(c); });
  if (checkpoint_root_.empty() || !options_.enable_checkpointing || options_.fast_dev_run > 0) return;
  if (std::none_of(callbacks_.begin(), callbacks_.end(), is_checkpoint))
    callbacks_.push_back(std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.save_last = true}));
}

std::filesystem::path Trainer::save_checkpoint(const std::string& name) {
  if (!can_checkpoint()) return {};
  std::vector<std::string> optimizer_shards;
  if (zero_) optimizer_shards = zero_->gather_optimizer_states();  // collective
  // ZeRO-3: the whole model, gathered on every rank (collective), is what
  // rank zero writes; so checkpoints read alike whatever the strategy.
  dist::FullParameters whole_model = zero_ ? zero_->summon_full_params() : dist::FullParameters();
  if (!is_global_zero()) return {};
  track::JsonValue state = track::JsonValue::object();
  state.set("epoch", track::JsonValue::number(resume_epoch_));
  state.set("next_batch", track::JsonValue::number(resume_batch_));
  state.set("global_step", track::JsonValue::number(global_step_));
  state.set("samples_seen", track::JsonValue::number(samples_seen_));
  track::JsonValue callbacks = track::JsonValue::array();
  for (const auto& callback : callbacks_) callbacks.push_back(track::JsonValue::string(callback->state_dict()));
  state.set("callbacks", std::move(callbacks));
  if (scaler_) state.set("grad_scaler", scaler_state(*scaler_));

  train::CheckpointWriter writer(checkpoint_root_, global_step_, train::CheckpointOptions{.name = name});
  writer.add_tensors("model", module_tensors(*module_));
  if (zero_) {
    track::JsonValue layout = track::JsonValue::object();
    layout.set("stage", track::JsonValue::number(zero_->stage()));
    layout.set("world_size", track::JsonValue::number(zero_->world_size()));
    layout.set("flat_numel", track::JsonValue::number(zero_->flat_numel()));
    layout.set("shard_numel", track::JsonValue::number(zero_->shard_numel()));
    layout.set("parameters", train::zero_parameter_layout(train::named_trainable_parameters(*module_), *zero_));
    writer.add_text("zero.json", track::to_json(layout, 2));
    for (std::size_t r = 0; r < optimizer_shards.size(); ++r)
      writer.add_text("optimizer.rank" + std::to_string(r) + ".pt", optimizer_shards[r]);
  } else {
    std::ostringstream optimizer_bytes;
    torch::save(*optimizer_, optimizer_bytes);
    writer.add_text("optimizer.pt", optimizer_bytes.str());
  }
  writer.add_tensors("rng", train::rng_state_to_tensors(train::capture_rng_state()));
  writer.add_text("state.json", track::to_json(state, 2));
  return writer.commit();
}

bool Trainer::remove_checkpoint(const std::string& name) {
  namespace fs = std::filesystem;
  if (!is_global_zero() || checkpoint_root_.empty() || !train::is_valid_checkpoint_dir_name(name)) return false;
  const fs::path dir = checkpoint_root_ / name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  std::optional<fs::path> last = train::find_checkpoint(checkpoint_root_);
  if (last && last->filename() == name) return false;
  // Renamed first, so a crash mid-removal leaves a .tmp-* entry (ignored,
  // then cleaned by the next commit), never a half-deleted checkpoint.
  const fs::path doomed = checkpoint_root_ / (".tmp-removed-" + name);
  fs::rename(dir, doomed, ec);
  if (ec) throw IoError("cannot remove checkpoint '" + dir.string() + "': " + ec.message());
  fs::remove_all(doomed, ec);
  if (ec) throw IoError("cannot remove '" + doomed.string() + "': " + ec.message());
  return true;
}

void Trainer::restore_optimizer(const train::Checkpoint& checkpoint, torch::optim::Optimizer& opt) {
  if (!zero_) {
    train::load_optimizer_into_whole(checkpoint, opt, train::named_trainable_parameters(*module_), optimizer_factory_);
    return;
  }
  std::optional<train::ZeroCheckpointLayout> layout = train::read_zero_layout(checkpoint);
  if (!layout) {
    // Written without ZeRO: the archive loads into an optimizer of the run's
    // kind over stand-ins of every parameter (the order it was built with),
    // whose states this rank's shard then takes its slice of.
    const train::OptimizerStandIns stand_ins = train::optimizer_stand_ins(*module_);
    std::shared_ptr<torch::optim::Optimizer> whole = optimizer_factory_(stand_ins.all);
    train::load_optimizer_into_whole(checkpoint, *whole, stand_ins.trainable, optimizer_factory_);
    std::vector<torch::Tensor> trainable;
    for (const auto& [name, stand_in] : stand_ins.trainable) trainable.push_back(stand_in);
    zero_->load_whole_optimizer_state(*whole, trainable);
    return;
  }
  if (layout->flat_numel != zero_->flat_numel())
    throw IoError("checkpoint '" + checkpoint.dir().string() + "': its optimizer shards cover " +
                  std::to_string(layout->flat_numel) + " parameters, this model has " +
                  std::to_string(zero_->flat_numel()) + " (another model?)");
  zero_->load_optimizer_states(layout->shards, layout->shard_numel);
}

std::int64_t Trainer::resume_from(const std::filesystem::path& where, Module& module, torch::optim::Optimizer& opt) {
  train::Checkpoint checkpoint = train::load_checkpoint(where);
  const std::filesystem::path& dir = checkpoint.dir();
  {
    // ZeRO-3: loaded into the gathered parameters, then cut into the shards.
    dist::FullParameters whole_model = zero_ ? zero_->summon_full_params(/*writeback=*/true) : dist::FullParameters();
    train::load_model_part(checkpoint, module);
  }
  restore_optimizer(checkpoint, opt);
  train::restore_rng_state(train::rng_state_from_tensors(checkpoint.tensors("rng"), dir.string() + "/rng.safetensors"));

  track::JsonValue state = track::parse_json(checkpoint.text("state.json"));
  epoch_ = required_int(state, "epoch", dir);
  global_step_ = required_int(state, "global_step", dir);
  samples_seen_ = required_int(state, "samples_seen", dir);
  const track::JsonValue* callbacks = state.find("callbacks");
  if (!callbacks || !callbacks->is_array() || callbacks->items().size() != callbacks_.size())
    throw IoError("checkpoint '" + dir.string() + "' was written with " +
                  (callbacks && callbacks->is_array() ? std::to_string(callbacks->items().size()) : std::string("no")) +
                  " callback states, this Trainer has " + std::to_string(callbacks_.size()) + " callbacks");
  for (std::size_t i = 0; i < callbacks_.size(); ++i) callbacks_[i]->load_state_dict(callbacks->items()[i].text());
  if (scaler_) load_scaler_state(state.find("grad_scaler"), *scaler_, dir);
  return required_int(state, "next_batch", dir);
}

}  // namespace kiln
