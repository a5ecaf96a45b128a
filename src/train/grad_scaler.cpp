#include "kiln/train/grad_scaler.h"

#include <string>

#include "kiln/error.h"

namespace kiln {

GradScaler::GradScaler(GradScalerOptions options) : options_(options), scale_(options.init_scale) {
  if (!(options_.init_scale > 0))
    throw Error("GradScaler: init_scale must be > 0, found " + std::to_string(options_.init_scale));
  if (!(options_.growth_factor > 1))
    throw Error("GradScaler: growth_factor must be > 1, found " + std::to_string(options_.growth_factor));
  if (!(options_.backoff_factor > 0 && options_.backoff_factor < 1))
    throw Error("GradScaler: backoff_factor must be in (0, 1), found " + std::to_string(options_.backoff_factor));
  if (options_.growth_interval < 1)
    throw Error("GradScaler: growth_interval must be >= 1, found " + std::to_string(options_.growth_interval));
}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const { return loss * scale_; }

void GradScaler::unscale_(torch::optim::Optimizer& opt) {
  if (unscaled_) throw Error("GradScaler::unscale_ was already called since the last update()");
  torch::NoGradGuard no_grad;
  // As PyTorch: the reciprocal in double, applied in the gradients' dtype.
  const double inv_scale = 1.0 / scale_;
  torch::Tensor found;
  for (auto& group : opt.param_groups()) {
    for (auto& param : group.params()) {
      torch::Tensor& grad = param.mutable_grad();
      if (!grad.defined()) continue;
      torch::Tensor bad = grad.isfinite().logical_not().any();
      found = found.defined() ? found.logical_or(bad) : bad;
      grad.mul_(inv_scale);
    }
  }
  found_inf_ = found;
  found_inf_host_.reset();
  unscaled_ = true;
}

bool GradScaler::step(torch::optim::Optimizer& opt) {
  if (!unscaled_) unscale_(opt);
  // The one host sync: whether to step at all.
  found_inf_host_ = found_inf_.defined() && found_inf_.item<bool>();
  if (*found_inf_host_) return false;
  opt.step();
  return true;
}

void GradScaler::update() {
  if (!unscaled_) throw Error("GradScaler::update needs a step() (or unscale_) since the last update()");
  const bool found_inf = found_inf_host_ ? *found_inf_host_ : found_inf_.defined() && found_inf_.item<bool>();
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
  unscaled_ = false;
  found_inf_ = torch::Tensor();
  found_inf_host_.reset();
}

void GradScaler::load_state(const State& state) {
  if (!(state.scale > 0) || state.growth_tracker < 0)
    throw Error("GradScaler: invalid state (scale " + std::to_string(state.scale) + ", growth tracker " +
                std::to_string(state.growth_tracker) + ")");
  scale_ = state.scale;
  growth_tracker_ = state.growth_tracker;
  unscaled_ = false;
  found_inf_ = torch::Tensor();
  found_inf_host_.reset();
}

}  // namespace kiln
