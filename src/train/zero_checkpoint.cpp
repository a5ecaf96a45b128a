#include "zero_checkpoint.h"

#include <map>
#include <sstream>

#include "kiln/error.h"

namespace kiln::train {

std::vector<std::pair<std::string, torch::Tensor>> named_trainable_parameters(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters())
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
  return out;
}

OptimizerStandIns optimizer_stand_ins(torch::nn::Module& module) {
  OptimizerStandIns out;
  for (const auto& item : module.named_parameters()) {
    out.all.push_back(torch::zeros_like(item.value()).requires_grad_(true));
    if (item.value().requires_grad()) out.trainable.emplace_back(item.key(), out.all.back());
  }
  return out;
}

track::JsonValue zero_parameter_layout(const std::vector<std::pair<std::string, torch::Tensor>>& named_trainable,
                                       const dist::ZeroOptimizer& zero) {
  track::JsonValue out = track::JsonValue::array();
  // GradientSync::parameters() are the trainable ones, in module order.
  for (std::size_t i = 0; i < named_trainable.size(); ++i) {
    track::JsonValue entry = track::JsonValue::object();
    entry.set("name", track::JsonValue::string(named_trainable[i].first));
    entry.set("offset", track::JsonValue::number(zero.gradient_sync().flat_offset(i)));
    entry.set("numel", track::JsonValue::number(named_trainable[i].second.numel()));
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<dist::FlatPlacement> zero_placements(
    const track::JsonValue& layout, const std::vector<std::pair<std::string, torch::Tensor>>& named_trainable,
    const std::filesystem::path& dir) {
  const track::JsonValue* entries = layout.find("parameters");
  if (!entries || !entries->is_array())
    throw IoError("checkpoint '" + dir.string() +
                  "': zero.json has no parameter layout (written before kiln 0.7.0); resume it with strategy=zero1, "
                  "zero2 or zero3");
  std::map<std::string, std::int64_t> offsets;
  for (const track::JsonValue& entry : entries->items()) {
    const track::JsonValue* name = entry.find("name");
    const track::JsonValue* offset = entry.find("offset");
    if (name && name->is_string() && offset && offset->as_int64()) offsets[name->text()] = *offset->as_int64();
  }
  std::vector<dist::FlatPlacement> out;
  for (const auto& [name, parameter] : named_trainable) {
    auto it = offsets.find(name);
    if (it == offsets.end())
      throw IoError("checkpoint '" + dir.string() + "': zero.json places no parameter '" + name + "' (another model?)");
    out.push_back(dist::FlatPlacement{parameter, it->second});
  }
  return out;
}

std::optional<ZeroCheckpointLayout> read_zero_layout(const Checkpoint& checkpoint) {
  if (!checkpoint.has_text("zero.json")) return std::nullopt;
  ZeroCheckpointLayout layout;
  layout.json = track::parse_json(checkpoint.text("zero.json"));
  auto integer = [&](const char* key) {
    const track::JsonValue* value = layout.json.find(key);
    if (!value || !value->as_int64())
      throw IoError("checkpoint '" + checkpoint.dir().string() + "': zero.json has no integer '" + key + "'");
    return *value->as_int64();
  };
  layout.world_size = integer("world_size");
  layout.flat_numel = integer("flat_numel");
  layout.shard_numel = integer("shard_numel");
  for (std::int64_t r = 0; r < layout.world_size; ++r)
    layout.shards.push_back(checkpoint.text("optimizer.rank" + std::to_string(r) + ".pt"));
  return layout;
}

void load_optimizer_into_whole(const Checkpoint& checkpoint, torch::optim::Optimizer& whole,
                               const std::vector<std::pair<std::string, torch::Tensor>>& named_trainable,
                               const dist::ZeroOptimizer::Factory& factory) {
  std::optional<ZeroCheckpointLayout> zero = read_zero_layout(checkpoint);
  if (!zero) {
    std::istringstream archive(checkpoint.text("optimizer.pt"));
    torch::load(whole, archive);
    return;
  }
  if (!factory)
    throw IoError("checkpoint '" + checkpoint.dir().string() +
                  "' holds ZeRO optimizer shards, which only an optimizer from the config (optimizer:) can read; "
                  "resume it with strategy=zero1, zero2 or zero3");
  dist::load_zero_shards_into_whole(whole, zero_placements(zero->json, named_trainable, checkpoint.dir()), zero->shards,
                                    zero->shard_numel, factory);
}

}  // namespace kiln::train
