// Losses as a registry kind named "loss": a config node names the loss a
// Module trains with.
//
//   module:
//     _target_: classification
//     loss: {_target_: cross_entropy, label_smoothing: 0.1}
//
//   std::shared_ptr<kiln::train::Loss> loss = kiln::instantiate<kiln::train::Loss>(node);
//   torch::Tensor value = (*loss)(logits, target);  // a scalar, the batch mean
//
// Built-ins (register_builtin_losses()), torch::nn::functional's losses with
// PyTorch's parameter names and defaults, each reducing by the batch mean:
//   cross_entropy  output [N, C] logits, target [N] class indices (label_smoothing)
//   nll_loss       output [N, C] log-probabilities, target [N] class indices
//   mse_loss       output and target of one shape; a target of class indices
//                  [N] against output [N, C] is one-hot encoded first
// Users add their own with
//   KILN_REGISTER(kiln::train::Loss, "focal", focal_schema(), make_focal);
#pragma once

#include <torch/torch.h>

#include "kiln/registry.h"

namespace kiln::train {

class Loss {
 public:
  virtual ~Loss() = default;
  // The loss of one batch, a scalar that back-propagates to `output`.
  virtual torch::Tensor forward(const torch::Tensor& output, const torch::Tensor& target) = 0;
  torch::Tensor operator()(const torch::Tensor& output, const torch::Tensor& target) { return forward(output, target); }
};

struct CrossEntropyOptions {
  double label_smoothing = 0.0;  // in [0, 1]: weight moved from the target class to all classes evenly
};

class CrossEntropyLoss final : public Loss {
 public:
  explicit CrossEntropyLoss(CrossEntropyOptions options = {}) : options_(options) {}
  torch::Tensor forward(const torch::Tensor& output, const torch::Tensor& target) override;

 private:
  CrossEntropyOptions options_;
};

class NllLoss final : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& output, const torch::Tensor& target) override;
};

class MseLoss final : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& output, const torch::Tensor& target) override;
};

// Registers cross_entropy, nll_loss and mse_loss with
// kiln::registry<Loss>(); idempotent and thread-safe.
void register_builtin_losses();

}  // namespace kiln::train

KILN_DEFINE_KIND(kiln::train::Loss, "loss");
