#include "kiln/train/precision.h"

#include <ATen/autocast_mode.h>

#include "kiln/error.h"

namespace kiln::train {

Precision parse_precision(const std::string& text) {
  if (text == "32") return Precision::k32;
  if (text == "bf16-mixed") return Precision::kBf16Mixed;
  if (text == "16-mixed") return Precision::k16Mixed;
  throw Error("unknown precision '" + text + "': expected 32, bf16-mixed or 16-mixed");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::k32: return "32";
    case Precision::kBf16Mixed: return "bf16-mixed";
    case Precision::k16Mixed: return "16-mixed";
  }
  return "?";
}

AutocastGuard::AutocastGuard(Precision precision, const torch::Device& device) {
  if (precision == Precision::k32) return;
  active_ = true;
  cuda_ = device.is_cuda();
  const at::ScalarType dtype = precision == Precision::kBf16Mixed ? at::kBFloat16 : at::kHalf;
  if (cuda_) {
    previous_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    previous_enabled_ = at::autocast::is_cpu_enabled();
    previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // The cast cache holds low-precision copies of the weights; they are stale
  // once the optimizer steps, so the outermost scope drops them.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(previous_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
  } else {
    at::autocast::set_cpu_enabled(previous_enabled_);
    at::autocast::set_autocast_cpu_dtype(previous_dtype_);
  }
}

}  // namespace kiln::train
