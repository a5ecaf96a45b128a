// The state LibTorch's elementwise optimizers (SGD, Adam, AdamW) keep for
// one parameter, as named tensors: what ZeRO measures, reshards and writes
// back. One place knows each optimizer's state type.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace kiln::dist {

struct ElementwiseState {
  std::map<std::string, torch::Tensor> tensors;  // defined ones only: exp_avg, momentum_buffer, ...
  std::int64_t step = 0;                         // Adam's bias correction (0 for SGD)
};

// `state` as named tensors; nullopt for a type other than SGD's, Adam's or AdamW's.
std::optional<ElementwiseState> elementwise_state(const torch::optim::OptimizerParamState& state);

// The param state of `optimizer`'s kind holding `state`; nullptr for an
// optimizer other than SGD, Adam or AdamW.
std::unique_ptr<torch::optim::OptimizerParamState> make_param_state(const torch::optim::Optimizer& optimizer,
                                                                    const ElementwiseState& state);

}  // namespace kiln::dist
