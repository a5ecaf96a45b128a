// The one place LibTorch version differences live.
//
// CPU builds use Debian's LibTorch 1.13; GPU builds use torch 2.x. Code
// elsewhere calls these names and never tests TORCH_VERSION_* itself.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

namespace kiln::compat {

// True on LibTorch >= 2.0.
inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

// "1.13.1", the LibTorch this binary was built against.
inline const char* torch_version() { return TORCH_VERSION; }

// softmax(q k^T / sqrt(d) + mask) v over the last two dimensions of
// q [..., L, d], k and v [..., S, d]. `attend` (bool, broadcast to [L, S];
// true: may attend) or `is_causal` (query i sees keys 0..i, top-left
// aligned as PyTorch's) restricts it; dropout_p > 0 drops attention weights.
// LibTorch 2.x: at::scaled_dot_product_attention, whose flash and
// memory-efficient kernels run on CUDA. 1.13 has no fused attention: the
// same computation, written out (the [L, S] weights are materialised).
inline torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                                  const torch::Tensor& v, const torch::Tensor& attend, double dropout_p,
                                                  bool is_causal) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, attend.defined() ? c10::optional<at::Tensor>(attend) : c10::nullopt,
                                          dropout_p, is_causal);
#else
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  torch::Tensor allowed = attend;
  if (is_causal) allowed = torch::ones({q.size(-2), k.size(-2)}, q.options().dtype(torch::kBool)).tril();
  if (allowed.defined()) scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<double>::infinity());
  torch::Tensor weights = torch::softmax(scores, -1);
  if (dropout_p > 0) weights = torch::dropout(weights, dropout_p, /*train=*/true);
  return torch::matmul(weights.to(v.scalar_type()), v);
#endif
}

}  // namespace kiln::compat
