#include "kiln/dist/elementwise_state.h"

namespace kiln::dist {

std::optional<ElementwiseState> elementwise_state(const torch::optim::OptimizerParamState& state) {
  ElementwiseState out;
  auto put = [&](const char* name, const torch::Tensor& t) {
    if (t.defined()) out.tensors[name] = t;
  };
  if (const auto* w = dynamic_cast<const torch::optim::AdamWParamState*>(&state)) {
    put("exp_avg", w->exp_avg());
    put("exp_avg_sq", w->exp_avg_sq());
    put("max_exp_avg_sq", w->max_exp_avg_sq());
    out.step = w->step();
  } else if (const auto* a = dynamic_cast<const torch::optim::AdamParamState*>(&state)) {
    put("exp_avg", a->exp_avg());
    put("exp_avg_sq", a->exp_avg_sq());
    put("max_exp_avg_sq", a->max_exp_avg_sq());
    out.step = a->step();
  } else if (const auto* g = dynamic_cast<const torch::optim::SGDParamState*>(&state)) {
    put("momentum_buffer", g->momentum_buffer());
  } else {
    return std::nullopt;
  }
  return out;
}

std::unique_ptr<torch::optim::OptimizerParamState> make_param_state(const torch::optim::Optimizer& optimizer,
                                                                    const ElementwiseState& state) {
  auto take = [&](const char* name) {
    auto it = state.tensors.find(name);
    return it == state.tensors.end() ? torch::Tensor() : it->second;
  };
  if (dynamic_cast<const torch::optim::AdamW*>(&optimizer)) {
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(state.step).exp_avg(take("exp_avg")).exp_avg_sq(take("exp_avg_sq")).max_exp_avg_sq(take("max_exp_avg_sq"));
    return s;
  }
  if (dynamic_cast<const torch::optim::Adam*>(&optimizer)) {
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(state.step).exp_avg(take("exp_avg")).exp_avg_sq(take("exp_avg_sq")).max_exp_avg_sq(take("max_exp_avg_sq"));
    return s;
  }
  if (dynamic_cast<const torch::optim::SGD*>(&optimizer)) {
    auto s = std::make_unique<torch::optim::SGDParamState>();
    s->momentum_buffer(take("momentum_buffer"));
    return s;
  }
  return nullptr;
}

}  // namespace kiln::dist
