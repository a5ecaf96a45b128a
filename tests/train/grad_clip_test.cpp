// kiln's clip_grad_norm_ (no host sync) against LibTorch's: the same norm
// and bitwise the same gradients, clipped or not.
#include "kiln/train/grad_clip.h"

#include <gtest/gtest.h>

namespace {

std::vector<torch::Tensor> params_with_grads(std::uint64_t seed, double scale) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> params;
  for (auto shape : std::vector<std::vector<std::int64_t>>{{7, 5}, {5}, {3, 4, 2}}) {
    torch::Tensor p = torch::randn(shape).requires_grad_(true);
    p.mutable_grad() = torch::randn(shape) * scale;
    params.push_back(p);
  }
  // A parameter without a gradient is skipped.
  params.push_back(torch::randn({4}).requires_grad_(true));
  return params;
}

TEST(GradClip, MatchesLibTorchBitwiseWhenClippingAndWhenNot) {
  for (double scale : {10.0, 0.01}) {
    auto ours = params_with_grads(3, scale), theirs = params_with_grads(3, scale);
    torch::Tensor norm = kiln::train::clip_grad_norm_(ours, 1.0);
    const double expected = torch::nn::utils::clip_grad_norm_(theirs, 1.0);
    ASSERT_TRUE(norm.defined());
    EXPECT_EQ(norm.dim(), 0);
    EXPECT_EQ(norm.item<double>(), expected);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(ours[i].grad(), theirs[i].grad())) << i;
    EXPECT_FALSE(ours[3].grad().defined());
  }
  // Clipped: the joint norm is max_norm (up to the 1e-6 guard).
  auto clipped = params_with_grads(4, 10.0);
  kiln::train::clip_grad_norm_(clipped, 1.0);
  double squares = 0;
  for (std::size_t i = 0; i < 3; ++i) squares += clipped[i].grad().pow(2).sum().item<double>();
  EXPECT_NEAR(std::sqrt(squares), 1.0, 1e-5);
}

TEST(GradClip, NoGradientsGiveAnUndefinedNorm) {
  std::vector<torch::Tensor> none{torch::randn({3}).requires_grad_(true)};
  EXPECT_FALSE(kiln::train::clip_grad_norm_(none, 1.0).defined());
  auto one = params_with_grads(5, 10.0);
  one.resize(1);
  auto reference = params_with_grads(5, 10.0);
  reference.resize(1);
  kiln::train::clip_grad_norm_(one, 0.5);
  torch::nn::utils::clip_grad_norm_(reference, 0.5);
  EXPECT_TRUE(torch::equal(one[0].grad(), reference[0].grad()));
}

}  // namespace
