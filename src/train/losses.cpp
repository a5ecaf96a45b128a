#include "kiln/train/losses.h"

namespace kiln::train {

namespace F = torch::nn::functional;

torch::Tensor CrossEntropyLoss::forward(const torch::Tensor& output, const torch::Tensor& target) {
  if (options_.label_smoothing == 0.0) return F::cross_entropy(output, target);
  return F::cross_entropy(output, target, F::CrossEntropyFuncOptions().label_smoothing(options_.label_smoothing));
}

torch::Tensor NllLoss::forward(const torch::Tensor& output, const torch::Tensor& target) {
  return F::nll_loss(output, target);
}

torch::Tensor MseLoss::forward(const torch::Tensor& output, const torch::Tensor& target) {
  // Class indices against per-class outputs: regress onto the one-hot code.
  if (output.dim() == 2 && target.dim() == 1 && !target.is_floating_point())
    return F::mse_loss(output, F::one_hot(target, output.size(1)).to(output.scalar_type()));
  return F::mse_loss(output, target.to(output.scalar_type()));
}

void register_builtin_losses() {
  static const bool registered = [] {
    auto& losses = kiln::registry<Loss>();
    config::Schema<CrossEntropyOptions> ce("cross_entropy", {.doc = "cross-entropy of logits and class indices"});
    ce.field("label_smoothing", &CrossEntropyOptions::label_smoothing)
        .doc("weight spread from the target class over all classes")
        .range(0.0, 1.0);
    losses.add("cross_entropy", std::move(ce),
               [](const CrossEntropyOptions& o) { return std::make_shared<CrossEntropyLoss>(o); });
    losses.add("nll_loss", [] { return std::make_shared<NllLoss>(); });
    losses.add("mse_loss", [] { return std::make_shared<MseLoss>(); });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::train
