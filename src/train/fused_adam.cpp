// FusedAdam / FusedAdamW: LibTorch's Adam state and options, one pass per
// parameter (fused_adam_kernel.cpp) split over the intra-op threads.
#include "kiln/train/fused_adam.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "fused_adam_kernel.h"
#include "kiln/optimizer_state_key.h"

namespace kiln::train {
namespace {

using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;

// Elements per task: below this a thread's start costs more than the pass.
constexpr std::int64_t kGrain = 1 << 15;

bool dense_cpu_float(const torch::Tensor& t) {
  return !t.defined() || (t.device().is_cpu() && t.layout() == torch::kStrided && t.scalar_type() == torch::kFloat &&
                          t.is_contiguous());
}

// Whether every parameter with a gradient, its gradient and its state so far
// can take the fused pass.
template <class ParamState>
bool fused_pass_applies(const std::vector<torch::optim::OptimizerParamGroup>& groups, const StateMap& states) {
  for (const auto& group : groups) {
    for (const auto& p : group.params()) {
      const auto& grad = p.grad();
      if (!grad.defined()) continue;
      if (!dense_cpu_float(p) || !dense_cpu_float(grad) || grad.numel() != p.numel()) return false;
      auto it = states.find(optimizer_state_key(p));
      if (it == states.end()) continue;
      const auto* state = dynamic_cast<const ParamState*>(it->second.get());
      if (state == nullptr || !dense_cpu_float(state->exp_avg()) || !dense_cpu_float(state->exp_avg_sq()) ||
          !dense_cpu_float(state->max_exp_avg_sq())) {
        return false;
      }
    }
  }
  return true;
}

// The parameter's state, created as LibTorch creates it on its first step.
template <class ParamState>
ParamState& state_of(StateMap& states, const torch::Tensor& p, bool amsgrad) {
  const OptimizerStateKey key = optimizer_state_key(p);
  auto it = states.find(key);
  if (it == states.end()) {
    auto state = std::make_unique<ParamState>();
    state->step(0);
    state->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    it = states.emplace(key, std::move(state)).first;
  }
  auto& state = static_cast<ParamState&>(*it->second);
  if (amsgrad && !state.max_exp_avg_sq().defined()) {
    state.max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
  return state;
}

// One step of every parameter with a gradient. kDecoupled: AdamW's decay
// of the parameter; otherwise Adam's L2 penalty on the gradient.
template <bool kDecoupled, class Options, class ParamState>
void fused_step(std::vector<torch::optim::OptimizerParamGroup>& groups, StateMap& states) {
  for (auto& group : groups) {
    const auto& options = static_cast<const Options&>(group.options());
    const double lr = options.lr();
    const double weight_decay = options.weight_decay();
    const auto [beta1, beta2] = options.betas();
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& state = state_of<ParamState>(states, p, options.amsgrad());
      state.step(state.step() + 1);
      // Double precision here, float in the loop: LibTorch's scalars meet
      // float tensors the same way.
      const double bias_correction1 = 1 - std::pow(beta1, state.step());
      const double bias_correction2 = 1 - std::pow(beta2, state.step());
      AdamStepScalars s;
      s.beta1 = static_cast<float>(beta1);
      s.beta2 = static_cast<float>(beta2);
      s.one_minus_beta1 = static_cast<float>(1 - beta1);
      s.one_minus_beta2 = static_cast<float>(1 - beta2);
      s.param_scale = kDecoupled && weight_decay != 0 ? static_cast<float>(1 - lr * weight_decay) : 1.0f;
      s.l2_penalty = kDecoupled ? 0.0f : static_cast<float>(weight_decay);
      s.bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
      s.eps = static_cast<float>(options.eps());
      s.neg_step_size = static_cast<float>(-(lr / bias_correction1));
      s.amsgrad = options.amsgrad();

      float* param = p.data_ptr<float>();
      const float* grad = p.grad().data_ptr<float>();
      float* exp_avg = state.exp_avg().template data_ptr<float>();
      float* exp_avg_sq = state.exp_avg_sq().template data_ptr<float>();
      float* max_exp_avg_sq = s.amsgrad ? state.max_exp_avg_sq().template data_ptr<float>() : nullptr;
      at::parallel_for(0, p.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
        adam_step_range(param + begin, grad + begin, exp_avg + begin, exp_avg_sq + begin,
                        max_exp_avg_sq ? max_exp_avg_sq + begin : nullptr, end - begin, s);
      });
      // Written through raw pointers: tell autograd the tensor changed, as an
      // in-place operator would, so a graph that saved it refuses to run.
      p.unsafeGetTensorImpl()->bump_version();
    }
  }
}

// A step of `optimizer`: the closure first (it may compute the gradients,
// and LibTorch's optimizers evaluate it with grad mode on), then the fused
// pass, or LibTorch's step when the pass does not apply.
template <bool kDecoupled, class Options, class ParamState>
torch::Tensor fused_or_libtorch_step(torch::optim::Optimizer& optimizer,
                                     const torch::optim::Optimizer::LossClosure& closure,
                                     const std::function<void()>& libtorch_step) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  if (fused_pass_applies<ParamState>(optimizer.param_groups(), optimizer.state())) {
    fused_step<kDecoupled, Options, ParamState>(optimizer.param_groups(), optimizer.state());
  } else {
    libtorch_step();
  }
  return loss;
}

}  // namespace

torch::Tensor FusedAdamW::step(LossClosure closure) {
  return fused_or_libtorch_step<true, torch::optim::AdamWOptions, torch::optim::AdamWParamState>(
      *this, closure, [this] { torch::optim::AdamW::step(); });
}

torch::Tensor FusedAdam::step(LossClosure closure) {
  return fused_or_libtorch_step<false, torch::optim::AdamOptions, torch::optim::AdamParamState>(
      *this, closure, [this] { torch::optim::Adam::step(); });
}

}  // namespace kiln::train
