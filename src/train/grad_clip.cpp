#include "kiln/train/grad_clip.h"

namespace kiln::train {

torch::Tensor clip_grad_norm_(const std::vector<torch::Tensor>& params, double max_norm) {
  std::vector<torch::Tensor> grads, norms;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    norms.push_back(p.grad().norm(2));
  }
  if (grads.empty()) return torch::Tensor();
  // As LibTorch's: the norm of the per-parameter norms, and 1e-6 against
  // division by zero.
  torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  torch::Tensor coefficient = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (torch::Tensor& g : grads) g.mul_(coefficient.to(g.device()));
  return total;
}

}  // namespace kiln::train
