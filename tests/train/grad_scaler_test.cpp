// GradScaler on CPU: gradients with injected inf/NaN make it skip the step
// and back off; clean steps grow the scale (torch.cuda.amp.GradScaler's rules).
#include "kiln/train/grad_scaler.h"

#include <gtest/gtest.h>

#include <limits>

#include "kiln/error.h"

namespace kiln {
namespace {

struct Fixture {
  torch::Tensor w = torch::ones({3}, torch::requires_grad());
  torch::optim::SGD opt{std::vector<torch::Tensor>{w}, torch::optim::SGDOptions(1.0)};
  // Sets w's gradient as if backward of scale * loss had produced `grad`.
  void set_grad(torch::Tensor grad) { w.mutable_grad() = std::move(grad); }
};

TEST(GradScaler, DefaultsAreTorchs) {
  GradScaler scaler;
  EXPECT_EQ(scaler.get_scale(), 65536.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  EXPECT_TRUE(torch::equal(scaler.scale(torch::tensor(2.0)), torch::tensor(131072.0)));
}

TEST(GradScaler, UnscalesBeforeTheStep) {
  Fixture f;
  GradScaler scaler({.init_scale = 8.0});
  f.set_grad(torch::full({3}, 8.0));  // true gradient 1
  scaler.unscale_(f.opt);
  EXPECT_TRUE(torch::equal(f.w.grad(), torch::ones({3})));
  EXPECT_TRUE(scaler.step(f.opt));  // does not unscale twice
  scaler.update();
  EXPECT_TRUE(torch::equal(f.w.detach(), torch::zeros({3})));  // 1 - lr * 1
  EXPECT_EQ(scaler.get_scale(), 8.0);
  EXPECT_EQ(scaler.growth_tracker(), 1);
}

TEST(GradScaler, InfOrNanGradientSkipsTheStepAndBacksOff) {
  for (double bad : {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    Fixture f;
    GradScaler scaler({.init_scale = 1024.0});
    f.set_grad(torch::tensor({1.0f, static_cast<float>(bad), 1.0f}));
    EXPECT_FALSE(scaler.step(f.opt));
    scaler.update();
    EXPECT_TRUE(torch::equal(f.w.detach(), torch::ones({3}))) << "the step must be skipped";
    EXPECT_EQ(scaler.get_scale(), 512.0);
    EXPECT_EQ(scaler.growth_tracker(), 0);
  }
}

TEST(GradScaler, GrowsAfterGrowthIntervalCleanSteps) {
  Fixture f;
  GradScaler scaler({.init_scale = 4.0, .growth_interval = 3});
  for (int i = 0; i < 2; ++i) {
    f.set_grad(torch::zeros({3}));
    scaler.step(f.opt);
    scaler.update();
  }
  EXPECT_EQ(scaler.get_scale(), 4.0);
  EXPECT_EQ(scaler.growth_tracker(), 2);
  f.set_grad(torch::zeros({3}));
  scaler.step(f.opt);
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 8.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  // An overflow resets the count of clean steps.
  f.set_grad(torch::zeros({3}));
  scaler.step(f.opt);
  scaler.update();
  f.set_grad(torch::full({3}, std::numeric_limits<float>::infinity()));
  scaler.step(f.opt);
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 4.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(GradScaler, StateRoundTripsAndBadOptionsAreRefused) {
  GradScaler a({.init_scale = 32.0});
  GradScaler b;
  b.load_state(GradScaler::State{a.get_scale() / 4, 7});
  EXPECT_EQ(b.get_scale(), 8.0);
  EXPECT_EQ(b.growth_tracker(), 7);
  EXPECT_EQ(b.state().scale, 8.0);
  EXPECT_THROW(GradScaler({.backoff_factor = 1.5}), Error);
  EXPECT_THROW(GradScaler({.growth_interval = 0}), Error);
  EXPECT_THROW(b.load_state(GradScaler::State{-1.0, 0}), Error);
}

TEST(GradScaler, UnscaleTwiceBeforeUpdateIsAnError) {
  Fixture f;
  GradScaler scaler;
  f.set_grad(torch::ones({3}));
  scaler.unscale_(f.opt);
  EXPECT_THROW(scaler.unscale_(f.opt), Error);
}

}  // namespace
}  // namespace kiln
