#include "kiln/train/consolidate.h"

#include <sstream>

#include "kiln/dist/elementwise_state.h"
#include "kiln/dist/zero.h"
#include "kiln/error.h"
#include "kiln/optimizer_state_key.h"
#include "kiln/registry.h"
#include "kiln/track/json.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/job.h"
#include "kiln/train/module.h"
#include "kiln/train/optim.h"
#include "zero_checkpoint.h"

namespace kiln::train {
namespace {

std::int64_t layout_int(const track::JsonValue& layout, const char* key, const std::filesystem::path& dir) {
  const track::JsonValue* value = layout.find(key);
  if (!value || !value->as_int64())
    throw IoError("checkpoint '" + dir.string() + "': zero.json has no integer '" + key + "'");
  return *value->as_int64();
}

}  // namespace

void consolidate_checkpoint(const config::Node& resolved, const std::filesystem::path& checkpoint,
                            const std::filesystem::path& out) {
  std::shared_ptr<Module> module = make_job_module(resolved);
  const config::Node* optimizer_node = resolved.find("optimizer");
  if (!optimizer_node || optimizer_node->is_null())
    throw Error("consolidate: the run's config has no optimizer: section to read the optimizer state with");
  auto factory = partial<torch::optim::Optimizer>(*optimizer_node, {"optimizer"});
  Checkpoint saved = load_checkpoint(checkpoint);
  const std::filesystem::path& dir = saved.dir();

  // Stand-ins of every parameter, in module order (the order a Trainer
  // builds its optimizer with), to load the optimizer state into.
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
  std::vector<torch::Tensor> stand_ins;
  for (const auto& item : module->named_parameters()) {
    stand_ins.push_back(torch::zeros_like(item.value()).requires_grad_(true));
    if (item.value().requires_grad()) trainable.emplace_back(item.key(), stand_ins.back());
  }
  std::shared_ptr<torch::optim::Optimizer> optimizer = factory(stand_ins);
  if (saved.has_text("zero.json")) {
    const track::JsonValue layout = track::parse_json(saved.text("zero.json"));
    const std::int64_t ranks = layout_int(layout, "world_size", dir);
    std::vector<std::string> shards;
    for (std::int64_t r = 0; r < ranks; ++r) shards.push_back(saved.text("optimizer.rank" + std::to_string(r) + ".pt"));
    dist::load_zero_shards_into_whole(*optimizer, zero_placements(layout, trainable, dir), shards,
                                      layout_int(layout, "shard_numel", dir),
                                      [&](std::vector<torch::Tensor> p) { return factory(std::move(p)); });
  } else {
    std::istringstream archive(saved.text("optimizer.pt"));
    torch::load(*optimizer, archive);
  }

  TensorMap tensors = saved.tensors("model");
  std::int64_t step = 0;
  for (const auto& [name, parameter] : trainable) {
    auto it = optimizer->state().find(optimizer_state_key(parameter));
    if (it == optimizer->state().end()) continue;  // never stepped
    std::optional<dist::ElementwiseState> state = dist::elementwise_state(*it->second);
    if (!state)
      throw Error("consolidate: only SGD, Adam and AdamW state can be written per parameter; this run's optimizer is " +
                  optimizer_node->find("_target_")->scalar_text());
    step = std::max(step, state->step);
    for (const auto& [kind, tensor] : state->tensors) tensors["optimizer." + kind + "." + name] = tensor.detach();
  }
  SafetensorsMetadata metadata{{"format", "kiln.consolidated"},
                               {"optimizer", optimizer_node->find("_target_")->scalar_text()},
                               {"step", std::to_string(step)},
                               {"checkpoint_step", std::to_string(saved.step())},
                               {"source", dir.string()}};
  save_safetensors(out, tensors, metadata);
}

}  // namespace kiln::train
