// The optimizer kind: torch::optim optimizers built from config.
//
//   optimizer:
//     _target_: adamw
//     lr: 3.0e-4
//     betas: [0.9, 0.95]
//
//   kiln::train::register_builtin_optimizers();
//   std::shared_ptr<torch::optim::Optimizer> opt =
//       kiln::instantiate_at<torch::optim::Optimizer>(root, {"optimizer"}, model->parameters());
//
// The built-in factories are `sgd`, `adam` and `adamw`, LibTorch's own
// torch::optim classes with PyTorch's parameter names and defaults (each
// checked against PyTorch 1.13 by tests/train/optim_test.cpp). `fused: true`
// (PyTorch 2.x's name) gives Adam/AdamW a one-pass CPU step with the same
// state and checkpoints (kiln/train/fused_adam.h).
// docs/optim.md lists the parameters.
//
// The runtime argument is the list of tensors to optimise, all in one
// parameter group. Parameters that are valid one by one but not together
// (nesterov without momentum, betas outside [0, 1)) are reported when the
// optimizer is built, as a ConfigError at that parameter's key and source;
// everything else (types, ranges, unknown keys) already when the node is
// bound or validated.
//
// Users add their own optimizers like any factory (docs/registry.md):
//   KILN_REGISTER(torch::optim::Optimizer, "lion", lion_schema(), make_lion);
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "kiln/registry.h"

namespace kiln::train {

// torch.optim.SGD. lr has no default in PyTorch 1.13; kiln takes 2.x's 1e-3.
struct SgdOptions {
  double lr = 1e-3;             // learning rate
  double momentum = 0.0;        // momentum factor
  double dampening = 0.0;       // dampening for momentum
  double weight_decay = 0.0;    // L2 penalty added to the gradient
  bool nesterov = false;        // Nesterov momentum; needs momentum > 0 and dampening == 0
  bool weight_decay_1d = true;  // false: no weight decay on 1-D parameters (see AdamWOptions)
};

// torch.optim.Adam. weight_decay is an L2 penalty added to the gradient.
struct AdamOptions {
  double lr = 1e-3;                       // learning rate
  std::vector<double> betas{0.9, 0.999};  // running-average coefficients, two floats in [0, 1)
  double eps = 1e-8;                      // added to the denominator
  double weight_decay = 0.0;              // L2 penalty
  bool amsgrad = false;                   // the AMSGrad variant
  bool fused = false;                     // one pass per parameter on CPU (kiln/train/fused_adam.h)
  bool weight_decay_1d = true;            // false: no weight decay on 1-D parameters (see AdamWOptions)
};

// torch.optim.AdamW: Adam with decoupled weight decay (default 0.01).
struct AdamWOptions {
  double lr = 1e-3;
  std::vector<double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p -= lr * weight_decay * p each step
  bool amsgrad = false;
  bool fused = false;  // one pass per parameter on CPU (kiln/train/fused_adam.h)
  // false: parameters with fewer than 2 dimensions (biases, LayerNorm and
  // BatchNorm weights) get no weight decay, as nanoGPT, timm and Hugging
  // Face's Trainer do: two parameter groups, matrices first. ZeRO's flat
  // shard cannot honour groups and refuses it.
  bool weight_decay_1d = true;
};

// The factories behind `sgd`, `adam` and `adamw`. They throw
// kiln::InvalidParam for parameters that do not work together (the registry
// turns it into a ConfigError at the parameter's key).
std::shared_ptr<torch::optim::Optimizer> make_sgd(const SgdOptions& options, std::vector<torch::Tensor> params);
std::shared_ptr<torch::optim::Optimizer> make_adam(const AdamOptions& options, std::vector<torch::Tensor> params);
std::shared_ptr<torch::optim::Optimizer> make_adamw(const AdamWOptions& options, std::vector<torch::Tensor> params);

// Registers sgd, adam and adamw with kiln::registry<torch::optim::Optimizer>();
// idempotent and thread-safe. Called by the trainer: registrations made by
// static initialisers inside a static library are dropped by the linker
// unless something calls into it.
void register_builtin_optimizers();

}  // namespace kiln::train

// The runtime argument: the tensors to optimise (e.g. model->parameters()).
KILN_DEFINE_KIND(torch::optim::Optimizer, "optimizer", std::vector<torch::Tensor>);
