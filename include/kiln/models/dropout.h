// Dropout whose CPU mask is drawn in parallel from a counter-based hash.
//
// LibTorch 1.13's CPU dropout draws its Bernoulli mask one mt19937 number
// at a time on one thread: 0.28 ms of an MLP's 0.87 ms forward pass on
// Fashion-MNIST (docs/benchmarks.md). kiln::models::Dropout takes one 64-bit
// draw from LibTorch's default CPU generator per call (so torch::manual_seed,
// seed_everything and the checkpointed RNG state govern it exactly as they
// govern torch::nn::Dropout) and derives element i's keep/drop from
// SplitMix64(seed + i): independent of the thread count, split over the
// intra-op threads. Inverted dropout as PyTorch's: kept elements are scaled by
// 1 / (1 - p), in training mode only.
//
// It is not bit-compatible with torch::nn::Dropout (a different generator
// draws the mask); it is a drop-in module for kiln's models. Non-float32,
// non-CPU or non-contiguous inputs use torch::dropout.
#pragma once

#include <torch/torch.h>

namespace kiln::models {

class DropoutImpl : public torch::nn::Module {
 public:
  explicit DropoutImpl(double p = 0.5);
  torch::Tensor forward(const torch::Tensor& input);
  double p() const { return p_; }

 private:
  double p_;
};

TORCH_MODULE(Dropout);

}  // namespace kiln::models
