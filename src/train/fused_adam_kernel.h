// One pass of Adam / AdamW over a contiguous float32 range: the update
// torch::optim::Adam and AdamW make in about ten whole-tensor passes
// (decay, two moment updates, sqrt, divide, add eps, addcdiv), made per
// element while the values are in registers. Torch-free, so it can be
// compiled with its own flags (see CMakeLists.txt): vectorised, and with
// floating-point contraction off, so every build and every CPU (the AVX2
// clone or the baseline one) rounds each operation the same way.
#pragma once

#include <cstdint>

namespace kiln::train {

// The scalars of one parameter's step, already in float as LibTorch's CPU
// kernels see them (a double scalar meets a float tensor as a float).
struct AdamStepScalars {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float one_minus_beta1 = 0.1f;
  float one_minus_beta2 = 0.001f;
  float param_scale = 1.0f;            // AdamW's decoupled decay: 1 - lr * weight_decay
  float l2_penalty = 0.0f;             // Adam's weight_decay, added to the gradient: g + wd * p
  float bias_correction2_sqrt = 1.0f;  // sqrt(1 - beta2^step)
  float eps = 1e-8f;
  float neg_step_size = -1e-3f;  // -lr / (1 - beta1^step)
  bool amsgrad = false;
};

// Updates param, exp_avg, exp_avg_sq (and max_exp_avg_sq when amsgrad) at
// [0, n). Element-wise only: any split of a tensor into ranges gives the
// same bits, whatever the thread count.
void adam_step_range(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
                     std::int64_t n, const AdamStepScalars& s);

}  // namespace kiln::train
