// FusedAdam / FusedAdamW against LibTorch's Adam / AdamW: the same updates
// to float rounding, the same bits for any thread count, the same state and
// archive, LibTorch's step where the fused pass does not apply.
#include "kiln/train/fused_adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/config/yaml.h"
#include "kiln/train/optim.h"

namespace kiln::train {
namespace {

using MakeOptimizer = std::function<std::shared_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>;

// A matrix larger than one task of the fused pass (so threads split it), a
// bias, and a scalar-sized tensor; float32 unless told.
std::vector<torch::Tensor> make_params(torch::Dtype dtype = torch::kFloat) {
  torch::manual_seed(3);
  return {torch::randn({300, 257}, dtype).requires_grad_(true), torch::randn({257}, dtype).requires_grad_(true),
          torch::randn({1}, dtype).requires_grad_(true)};
}

// STEPS steps with gradients of varying sign and scale (the same for every
// optimizer given the same parameter shapes); returns the parameters.
std::vector<torch::Tensor> train(const MakeOptimizer& make, std::vector<torch::Tensor> params, int steps = 30) {
  auto optimizer = make(params);
  torch::manual_seed(11);
  for (int t = 0; t < steps; ++t) {
    for (auto& p : params) p.mutable_grad() = torch::randn(p.sizes(), p.options()) * (1.0 + 0.3 * t);
    optimizer->step();
  }
  return params;
}

void expect_close(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto diff = (got[i] - want[i]).abs().max().item<double>();
    const auto scale = want[i].abs().max().item<double>();
    EXPECT_LE(diff, 2e-6 * scale + 1e-7) << "parameter " << i;
    EXPECT_FALSE(torch::equal(got[i], make_params()[i].to(got[i].scalar_type()))) << "parameter " << i << " unchanged";
  }
}

void expect_equal(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::equal(got[i], want[i])) << "parameter " << i;
}

struct Case {
  std::string name;
  MakeOptimizer fused;
  MakeOptimizer libtorch;
};

std::vector<Case> cases() {
  using torch::optim::AdamOptions;
  using torch::optim::AdamWOptions;
  const auto adamw_all = AdamWOptions(0.02).betas({0.85, 0.95}).eps(1e-7).weight_decay(0.1).amsgrad(true);
  const auto adam_all = AdamOptions(0.02).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1).amsgrad(true);
  const auto adam_l2 = AdamOptions(0.01).weight_decay(0.05);
  return {
      {"adamw", [](auto p) { return std::make_shared<FusedAdamW>(p, AdamWOptions(0.01)); },
       [](auto p) { return std::make_shared<torch::optim::AdamW>(p, AdamWOptions(0.01)); }},
      {"adamw_amsgrad_decay", [=](auto p) { return std::make_shared<FusedAdamW>(p, adamw_all); },
       [=](auto p) { return std::make_shared<torch::optim::AdamW>(p, adamw_all); }},
      {"adamw_no_decay", [](auto p) { return std::make_shared<FusedAdamW>(p, AdamWOptions(0.01).weight_decay(0)); },
       [](auto p) { return std::make_shared<torch::optim::AdamW>(p, AdamWOptions(0.01).weight_decay(0)); }},
      {"adam", [](auto p) { return std::make_shared<FusedAdam>(p, AdamOptions(0.01)); },
       [](auto p) { return std::make_shared<torch::optim::Adam>(p, AdamOptions(0.01)); }},
      {"adam_l2", [=](auto p) { return std::make_shared<FusedAdam>(p, adam_l2); },
       [=](auto p) { return std::make_shared<torch::optim::Adam>(p, adam_l2); }},
      {"adam_amsgrad_l2", [=](auto p) { return std::make_shared<FusedAdam>(p, adam_all); },
       [=](auto p) { return std::make_shared<torch::optim::Adam>(p, adam_all); }},
  };
}

// Restores the intra-op thread count a test changes.
struct ThreadCount {
  int saved = at::get_num_threads();
  explicit ThreadCount(int n) { at::set_num_threads(n); }
  ~ThreadCount() { at::set_num_threads(saved); }
};

TEST(FusedAdam, MatchesLibTorchToFloatRounding) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    expect_close(train(c.fused, make_params()), train(c.libtorch, make_params()));
  }
}

// The per-element formula of fused_adam.h, written out in float: three
// steps of both optimizers must give exactly these bits. LibTorch's own
// step does not (its vectorised kernels fuse multiply-adds), so this also
// fails if the fused pass silently stopped being taken.
TEST(FusedAdam, IsExactlyThePerElementFormula) {
  for (const bool decoupled : {true, false}) {
    SCOPED_TRACE(decoupled ? "adamw" : "adam");
    const double lr = 0.01, weight_decay = 0.05, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    torch::manual_seed(21);
    auto w = torch::randn({70001}).requires_grad_(true);
    std::vector<float> p(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    std::vector<float> m(p.size(), 0.0f), v(p.size(), 0.0f), v_max(p.size(), 0.0f);
    std::shared_ptr<torch::optim::Optimizer> optimizer;
    if (decoupled) {
      optimizer = std::make_shared<FusedAdamW>(std::vector<torch::Tensor>{w},
                                               torch::optim::AdamWOptions(lr).weight_decay(weight_decay).amsgrad(true));
    } else {
      optimizer = std::make_shared<FusedAdam>(std::vector<torch::Tensor>{w},
                                              torch::optim::AdamOptions(lr).weight_decay(weight_decay).amsgrad(true));
    }
    for (int step = 1; step <= 3; ++step) {
      w.mutable_grad() = torch::randn({70001});
      optimizer->step();
      const float* g = w.grad().data_ptr<float>();
      const auto scale = static_cast<float>(decoupled ? 1 - lr * weight_decay : 1.0);
      const auto l2 = static_cast<float>(decoupled ? 0.0 : weight_decay);
      const auto bc2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(beta2, step)));
      const auto neg_step = static_cast<float>(-(lr / (1 - std::pow(beta1, step))));
      for (std::size_t i = 0; i < p.size(); ++i) {
        const float decayed = p[i] * scale;
        const float grad = g[i] + l2 * decayed;
        m[i] = m[i] * 0.9f + static_cast<float>(1 - beta1) * grad;
        v[i] = v[i] * 0.999f + (static_cast<float>(1 - beta2) * grad) * grad;
        v_max[i] = v_max[i] > v[i] ? v_max[i] : v[i];
        const float denom = std::sqrt(v_max[i]) / bc2_sqrt + static_cast<float>(eps);
        p[i] = decayed + neg_step * (m[i] / denom);
      }
    }
    const auto expected = torch::from_blob(p.data(), {static_cast<std::int64_t>(p.size())}, torch::kFloat);
    EXPECT_TRUE(torch::equal(w.detach(), expected))
        << "max difference " << (w.detach() - expected).abs().max().item<double>();
  }
}

TEST(FusedAdam, SameBitsForAnyThreadCount) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    std::vector<torch::Tensor> one_thread;
    {
      ThreadCount threads(1);
      one_thread = train(c.fused, make_params());
    }
    ThreadCount threads(2);
    expect_equal(train(c.fused, make_params()), one_thread);
  }
}

TEST(FusedAdam, StateIsLibTorchsAndCheckpointsCrossOver) {
  auto fused_params = make_params();
  FusedAdamW fused(fused_params, torch::optim::AdamWOptions(0.01));
  torch::manual_seed(5);
  for (int t = 0; t < 7; ++t) {
    for (auto& p : fused_params) p.mutable_grad() = torch::randn(p.sizes());
    fused.step();
  }
  ASSERT_EQ(fused.state().size(), fused_params.size());
  for (const auto& [key, state] : fused.state()) {
    const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(state.get());
    ASSERT_NE(adamw, nullptr) << key;
    EXPECT_EQ(adamw->step(), 7);
    EXPECT_TRUE(adamw->exp_avg().defined() && adamw->exp_avg_sq().defined());
    EXPECT_FALSE(adamw->max_exp_avg_sq().defined());
  }

  // The fused optimizer's archive continues in LibTorch's AdamW, and back.
  torch::serialize::OutputArchive out;
  fused.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  std::vector<torch::Tensor> plain_params;
  for (const auto& p : fused_params) plain_params.push_back(p.detach().clone().requires_grad_(true));
  torch::optim::AdamW plain(plain_params, torch::optim::AdamWOptions(0.01));
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read);
  plain.load(in);
  torch::manual_seed(6);
  for (int t = 0; t < 5; ++t) {
    for (std::size_t i = 0; i < fused_params.size(); ++i) {
      auto grad = torch::randn(fused_params[i].sizes());
      fused_params[i].mutable_grad() = grad;
      plain_params[i].mutable_grad() = grad.clone();
    }
    fused.step();
    plain.step();
  }
  // Had the state been lost, the bias correction restarts at step 1 and
  // the parameters move by a different amount.
  expect_close(fused_params, plain_params);
}

TEST(FusedAdam, TensorsItCannotFuseTakeLibTorchsStepExactly) {
  // float64, and a float32 parameter that is a transposed (strided) view.
  expect_equal(train(cases()[1].fused, make_params(torch::kDouble)),
               train(cases()[1].libtorch, make_params(torch::kDouble)));
  auto strided = [](std::vector<torch::Tensor> params) {
    params[0] = params[0].detach().t().requires_grad_(true);
    return params;
  };
  expect_equal(train(cases()[0].fused, strided(make_params())), train(cases()[0].libtorch, strided(make_params())));
}

TEST(FusedAdam, ClosureComputesTheGradientsFirst) {
  auto w = torch::ones({40000}, torch::requires_grad());
  FusedAdamW optimizer({w}, torch::optim::AdamWOptions(0.1).weight_decay(0));
  auto loss = optimizer.step([&] {
    optimizer.zero_grad();
    auto l = (w * w).sum();
    l.backward();
    return l;
  });
  EXPECT_DOUBLE_EQ(loss.item<double>(), 40000.0);
  // Adam's first step moves every weight by lr against its gradient's sign.
  EXPECT_NEAR(w[0].item<double>(), 0.9, 1e-6);
  EXPECT_NEAR(w[39999].item<double>(), 0.9, 1e-6);
}

TEST(FusedAdam, AutogradSeesTheParameterChange) {
  auto w = torch::ones({8}, torch::requires_grad());
  FusedAdamW optimizer({w}, torch::optim::AdamWOptions(0.1));
  auto y = (w * w).sum();  // saves w for backward
  w.mutable_grad() = torch::ones({8});
  optimizer.step();
  EXPECT_THROW(y.backward(), c10::Error);  // "modified by an inplace operation"
}

TEST(FusedAdam, ConfigFusedTrueBuildsIt) {
  register_builtin_optimizers();
  auto build = [](const std::string& yaml) {
    auto root = config::load_yaml(yaml, "train.yaml").root;
    return kiln::instantiate_at<torch::optim::Optimizer>(root, {"optimizer"},
                                                         std::vector<torch::Tensor>{torch::ones({2})});
  };
  EXPECT_NE(dynamic_cast<FusedAdamW*>(build("optimizer: {_target_: adamw, fused: true}\n").get()), nullptr);
  EXPECT_NE(dynamic_cast<FusedAdam*>(build("optimizer: {_target_: adam, fused: true}\n").get()), nullptr);
  EXPECT_EQ(dynamic_cast<FusedAdamW*>(build("optimizer: {_target_: adamw}\n").get()), nullptr);
  EXPECT_EQ(dynamic_cast<FusedAdam*>(build("optimizer: {_target_: adam, fused: false}\n").get()), nullptr);
}

}  // namespace
}  // namespace kiln::train
