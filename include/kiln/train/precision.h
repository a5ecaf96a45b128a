// Numeric precision of a run (the Trainer's `precision` option) and the
// autocast scope the Trainer opens around each step's forward and loss.
//
//   "32"          float32 everywhere (the default)
//   "bf16-mixed"  autocast to bfloat16 on CPU and CUDA: ops that gain from
//                 it (linear, conv, matmul) run in bf16, the rest in fp32;
//                 weights, gradients and the optimizer stay fp32
//   "16-mixed"    autocast to float16, CUDA only, with a GradScaler
//                 (grad_scaler.h) against fp16 gradient underflow
//
//   kiln::train::AutocastGuard guard(kiln::train::Precision::kBf16Mixed, torch::kCPU);
//   torch::Tensor y = linear(x);  // bf16
//
// LibTorch's autocast state is per thread; the guard restores the previous
// state (and clears the cast-weight cache when the outermost scope ends, as
// torch.autocast does).
#pragma once

#include <torch/torch.h>

#include <string>

namespace kiln::train {

enum class Precision { k32, kBf16Mixed, k16Mixed };

// "32" | "bf16-mixed" | "16-mixed"; throws kiln::Error for anything else
// (the trainer schema already restricts the choices).
Precision parse_precision(const std::string& text);
const char* precision_name(Precision precision);

class AutocastGuard {
 public:
  // Enables autocast for `device`'s type with the precision's dtype; does
  // nothing for Precision::k32.
  AutocastGuard(Precision precision, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace kiln::train
