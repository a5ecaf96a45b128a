#include "kiln/train/consolidate.h"

#include "kiln/dist/elementwise_state.h"
#include "kiln/error.h"
#include "kiln/optimizer_state_key.h"
#include "kiln/registry.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/job.h"
#include "kiln/train/module.h"
#include "kiln/train/optim.h"
#include "zero_checkpoint.h"

namespace kiln::train {
void consolidate_checkpoint(const config::Node& resolved, const std::filesystem::path& checkpoint,
                            const std::filesystem::path& out) {
  std::shared_ptr<Module> module = make_job_module(resolved);
  const config::Node* optimizer_node = resolved.find("optimizer");
  if (!optimizer_node || optimizer_node->is_null())
    throw Error("consolidate: the run's config has no optimizer: section to read the optimizer state with");
  auto factory = partial<torch::optim::Optimizer>(*optimizer_node, {"optimizer"});
  Checkpoint saved = load_checkpoint(checkpoint);

  // Stand-ins of every parameter, in module order (the order a Trainer
  // builds its optimizer with), to load the optimizer state into.
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
  std::vector<torch::Tensor> stand_ins;
  for (const auto& item : module->named_parameters()) {
    stand_ins.push_back(torch::zeros_like(item.value()).requires_grad_(true));
    if (item.value().requires_grad()) trainable.emplace_back(item.key(), stand_ins.back());
  }
  std::shared_ptr<torch::optim::Optimizer> optimizer = factory(stand_ins);
  load_optimizer_into_whole(saved, *optimizer, trainable,
                            [&](std::vector<torch::Tensor> p) { return factory(std::move(p)); });

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
                               {"source", saved.dir().string()}};
  save_safetensors(out, tensors, metadata);
}

}  // namespace kiln::train
