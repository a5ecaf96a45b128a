// The fused Adam element loop. CMakeLists.txt compiles this file alone with
// -O3 -fno-math-errno (so sqrt vectorises) and -ffp-contract=off (no FMA:
// the result must not depend on which CPU ran it).
#include "fused_adam_kernel.h"

#include <cmath>

namespace kiln::train {

namespace {

// kL2: Adam's penalty added to the gradient (skipped, not multiplied by 0,
// so an inf parameter does not turn the gradient into NaN). kAmsgrad: the
// running maximum of exp_avg_sq is the denominator's.
template <bool kL2, bool kAmsgrad>
__attribute__((always_inline)) inline void adam_loop(float* __restrict param, const float* __restrict grad,
                                                     float* __restrict exp_avg, float* __restrict exp_avg_sq,
                                                     float* __restrict max_exp_avg_sq, std::int64_t n,
                                                     const AdamStepScalars s) {
  // The order of operations is LibTorch 1.13's (adamw.cpp, adam.cpp), one
  // rounding per operation as there.
  for (std::int64_t i = 0; i < n; ++i) {
    const float p = param[i] * s.param_scale;
    float g = grad[i];
    if constexpr (kL2) g = g + s.l2_penalty * p;
    const float m = exp_avg[i] * s.beta1 + s.one_minus_beta1 * g;
    const float v = exp_avg_sq[i] * s.beta2 + (s.one_minus_beta2 * g) * g;
    float v_denom = v;
    if constexpr (kAmsgrad) {
      v_denom = max_exp_avg_sq[i] > v ? max_exp_avg_sq[i] : v;
      max_exp_avg_sq[i] = v_denom;
    }
    const float denom = std::sqrt(v_denom) / s.bias_correction2_sqrt + s.eps;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p + s.neg_step_size * (m / denom);
  }
}

}  // namespace

// Two clones: AVX2 where the CPU has it, the x86-64 baseline elsewhere. The
// operations and their order are the same in both, so are the bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void adam_step_range(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
                     std::int64_t n, const AdamStepScalars& s) {
  const bool l2 = s.l2_penalty != 0.0f;
  if (l2 && s.amsgrad) return adam_loop<true, true>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, s);
  if (l2) return adam_loop<true, false>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, s);
  if (s.amsgrad) return adam_loop<false, true>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, s);
  return adam_loop<false, false>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, s);
}

}  // namespace kiln::train
