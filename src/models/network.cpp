#include "kiln/models/network.h"

namespace kiln::models {

torch::Tensor Network::run_unit(torch::nn::Module& unit, const std::function<torch::Tensor()>& forward) {
  if (!unit_hooks_) return forward();
  unit_hooks_->before_forward(unit);
  return unit_hooks_->after_forward(unit, forward());
}

torch::Tensor Network::run_units(torch::nn::Sequential& layers, torch::Tensor x) {
  for (auto& layer : *layers) {
    if (layer.ptr()->parameters().empty()) {
      x = layer.forward(x);
    } else {
      x = run_unit(*layer.ptr(), [&] { return layer.forward(x); });
    }
  }
  return x;
}

std::vector<std::shared_ptr<torch::nn::Module>> Network::units_of(const torch::nn::Sequential& layers) {
  std::vector<std::shared_ptr<torch::nn::Module>> units;
  for (const auto& layer : *layers)
    if (!layer.ptr()->parameters().empty()) units.push_back(layer.ptr());
  return units;
}

}  // namespace kiln::models
