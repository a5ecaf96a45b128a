// kiln::models::Dropout: one generator draw per call, the mask filled in
// parallel (dropout_mask.cpp), then input * mask so autograd's backward is
// grad * mask.
#include "kiln/models/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>

#include "dropout_mask.h"

namespace kiln::models {
namespace {

// Elements per task of the mask fill.
constexpr std::int64_t kGrain = 1 << 14;

// One 64-bit draw from LibTorch's default CPU generator, under its lock.
std::uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

}  // namespace

DropoutImpl::DropoutImpl(double p) : p_(p) {
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("dropout probability has to be between 0 and 1, but got " + std::to_string(p));
}

torch::Tensor DropoutImpl::forward(const torch::Tensor& input) {
  if (!is_training() || p_ == 0.0) return input;
  if (p_ == 1.0) return input * 0;
  if (!input.device().is_cpu() || input.scalar_type() != torch::kFloat || !input.is_contiguous()) {
    return torch::dropout(input, p_, /*train=*/true);
  }
  const std::uint64_t seed = draw_seed();
  const auto drop_threshold = static_cast<std::uint64_t>(std::llround(p_ * 4294967296.0));
  const auto scale = static_cast<float>(1.0 / (1.0 - p_));
  torch::Tensor mask = torch::empty_like(input);
  float* data = mask.data_ptr<float>();
  at::parallel_for(0, input.numel(), kGrain, [&](std::int64_t begin, std::int64_t end) {
    fill_dropout_mask(data + begin, end - begin, seed, static_cast<std::uint64_t>(begin), drop_threshold, scale);
  });
  return input * mask;
}

}  // namespace kiln::models
