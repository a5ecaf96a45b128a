// kiln::models::Dropout: PyTorch's inverted dropout, its mask drawn from
// LibTorch's default generator, the same bits for any thread count.
#include "kiln/models/dropout.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kiln::models {
namespace {

// Restores the intra-op thread count a test changes.
struct ThreadCount {
  int saved = at::get_num_threads();
  explicit ThreadCount(int n) { at::set_num_threads(n); }
  ~ThreadCount() { at::set_num_threads(saved); }
};

TEST(Dropout, DropsAboutPAndScalesTheRestExactly) {
  Dropout dropout(0.3);
  const auto input = torch::rand({1000, 1000}) + 0.5;  // no zeros of its own
  const auto out = dropout(input);
  const double dropped = (out == 0).sum().item<double>() / static_cast<double>(input.numel());
  // Binomial(1e6, 0.3): the standard deviation of the fraction is 0.00046.
  EXPECT_NEAR(dropped, 0.3, 0.0025);
  const auto kept = out != 0;
  EXPECT_TRUE(torch::equal(out.masked_select(kept), input.masked_select(kept) * static_cast<float>(1.0 / 0.7)));
}

TEST(Dropout, EvalModeAndEdgeProbabilities) {
  const auto input = torch::rand({64, 33});
  Dropout dropout(0.5);
  dropout->eval();
  EXPECT_TRUE(torch::equal(dropout(input), input));
  EXPECT_TRUE(torch::equal(Dropout(0.0)(input), input));
  EXPECT_TRUE(torch::equal(Dropout(1.0)(input), torch::zeros_like(input)));
  EXPECT_THROW(Dropout(1.5), std::invalid_argument);
}

TEST(Dropout, TheDefaultGeneratorGovernsTheMask) {
  Dropout dropout(0.5);
  const auto input = torch::ones({100000});
  torch::manual_seed(7);
  const auto first = dropout(input);
  const auto second = dropout(input);
  EXPECT_FALSE(torch::equal(first, second));  // each call draws anew
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(dropout(input), first));
  // The draw advances the generator, as torch::nn::Dropout's does, so a
  // checkpoint of the generator state resumes the masks too.
  torch::manual_seed(7);
  const auto untouched = torch::rand({4});
  torch::manual_seed(7);
  dropout(input);
  EXPECT_FALSE(torch::equal(torch::rand({4}), untouched));
}

TEST(Dropout, SameMaskForAnyThreadCount) {
  Dropout dropout(0.1);
  const auto input = torch::rand({128, 1024});  // several tasks of the parallel fill
  torch::Tensor one_thread;
  {
    ThreadCount threads(1);
    torch::manual_seed(3);
    one_thread = dropout(input);
  }
  ThreadCount threads(2);
  torch::manual_seed(3);
  EXPECT_TRUE(torch::equal(dropout(input), one_thread));
}

TEST(Dropout, GradientIsTheScaledMask) {
  Dropout dropout(0.25);
  const auto input = torch::rand({50, 40}).requires_grad_(true);
  const auto out = dropout(input);
  out.sum().backward();
  const auto expected = (out.detach() != 0).to(torch::kFloat) * static_cast<float>(1.0 / 0.75);
  EXPECT_TRUE(torch::equal(input.grad(), expected));
}

TEST(Dropout, OtherTensorsTakeTorchsDropout) {
  Dropout dropout(0.4);
  const auto input = torch::ones({200000}, torch::kDouble);
  const auto out = dropout(input);
  EXPECT_EQ(out.scalar_type(), torch::kDouble);
  EXPECT_NEAR((out == 0).sum().item<double>() / 200000.0, 0.4, 0.005);
  const auto strided = torch::ones({400, 500}).t();
  EXPECT_NEAR((dropout(strided) == 0).sum().item<double>() / 200000.0, 0.4, 0.005);
}

}  // namespace
}  // namespace kiln::models
