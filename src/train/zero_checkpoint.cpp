#include "zero_checkpoint.h"

#include <map>

#include "kiln/error.h"

namespace kiln::train {

std::vector<std::pair<std::string, torch::Tensor>> named_trainable_parameters(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters())
    if (item.value().requires_grad()) out.emplace_back(item.key(), item.value());
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
                  "': zero.json has no parameter layout (written before kiln 0.7.0); resume it with strategy=zero1 "
                  "or zero2");
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

}  // namespace kiln::train
