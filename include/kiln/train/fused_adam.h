// Adam and AdamW with a fused CPU step: `optimizer: {_target_: adamw, fused: true}`.
//
// LibTorch's Adam and AdamW update each parameter with about ten
// whole-tensor operations (decay, two moment updates, sqrt, divide, add
// eps, addcdiv), each a pass over memory. FusedAdam and FusedAdamW make the
// same update in one pass per parameter, split over the intra-op threads
// (PyTorch 2.x calls this `fused=True`). For an MLP on Fashion-MNIST the
// step is a fifth of the training step, so this is not a detail
// (docs/benchmarks.md).
//
// They are torch::optim::Adam and AdamW in every other respect: the same
// options, the same AdamParamState / AdamWParamState under the same keys,
// the same save()/load() archive. A checkpoint written by one loads into the
// other, and ZeRO shards and reshards their state like any Adam's.
//
// The results match LibTorch's to float rounding, not bit for bit (LibTorch
// may fuse a multiply-add where this kernel rounds twice), and are the same
// bits for any intra-op thread count and on any x86-64 CPU.
//
// The fused pass covers float32 CPU tensors with contiguous parameter and
// gradient. A step with any other parameter (CUDA, float64, a strided
// view) is LibTorch's step for all of them, so one optimizer never mixes
// the two roundings.
#pragma once

#include <torch/torch.h>

namespace kiln::train {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace kiln::train
