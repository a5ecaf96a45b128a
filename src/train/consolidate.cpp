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

  const OptimizerStandIns stand_ins = optimizer_stand_ins(*module);
  std::shared_ptr<torch::optim::Optimizer> optimizer = factory(stand_ins.all);
  load_optimizer_into_whole(saved, *optimizer, stand_ins.trainable,
                            [&](std::vector<torch::Tensor> p) { return factory(std::move(p)); });

  TensorMap tensors = saved.tensors("model");
  std::int64_t step = 0;
  for (const auto& [name, parameter] : stand_ins.trainable) {
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
