// Gradient clipping without a host synchronisation.
//
// LibTorch's C++ torch::nn::utils::clip_grad_norm_ returns the norm as a
// double, so it waits for the device every step; PyTorch's Python version
// (1.13 and later) keeps the norm a tensor and always multiplies by the
// clamped coefficient. kiln's does the same: on CUDA the step is queued
// without waiting, and the result is bitwise LibTorch's (multiplying by
// exactly 1.0 when the norm is below max_norm changes nothing).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace kiln::train {

// Scales the gradients of `params` so that their joint L2 norm is at most
// max_norm (> 0); parameters without a gradient are skipped. Returns the
// norm before clipping as a 0-dim tensor on the gradients' device (undefined
// when no parameter has a gradient).
torch::Tensor clip_grad_norm_(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace kiln::train
