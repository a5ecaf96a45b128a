// Optimizers from config: parity with torch.optim, config errors and the
// shipped configs/optimizer/*.yaml.
#include "kiln/train/optim.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/train/scheduler.h"
#include "parity/reference.h"

namespace kiln::train {
namespace {

// Tolerance of the final parameters after 20 steps: 1e-5 relative, with an
// absolute floor of 1e-6 (float32 parameters near 0).
constexpr double kRelTol = 1e-5;
constexpr double kAbsTol = 1e-6;

std::vector<torch::Tensor> some_params() { return {torch::zeros({2, 3}, torch::requires_grad())}; }

std::shared_ptr<torch::optim::Optimizer> build(const std::string& yaml,
                                               std::vector<torch::Tensor> params = some_params()) {
  register_builtin_optimizers();
  auto root = config::load_yaml(yaml, "train.yaml").root;
  return kiln::instantiate_at<torch::optim::Optimizer>(root, {"optimizer"}, std::move(params));
}

template <class Fn>
config::Diagnostic config_error(Fn fn) {
  try {
    fn();
  } catch (const config::ConfigError& e) {
    ::testing::Test::RecordProperty("error", e.what());  // the message as users see it (--gtest_output=xml)
    EXPECT_EQ(e.diagnostics().size(), 1u) << e.what();
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "no ConfigError";
  return {};
}

torch::Tensor to_tensor(const parity::RefTensor& t) {
  return torch::tensor(t.values, torch::kDouble).reshape(t.shape).to(torch::kFloat);
}

// The same two tensors, the same 20 gradients (from reference.py's formula)
// and, where the case gives them, the same per-step lrs through apply_lr.
TEST(OptimParity, EveryOptimizerMatchesPyTorchAfter20Steps) {
  REQUIRE_PYTORCH_REFERENCE(ref);
  ASSERT_GE(ref.optims.size(), 6u);
  ASSERT_TRUE(ref.tensors.count("init.w") && ref.tensors.count("init.b"));
  std::set<std::string> covered;
  for (const auto& c : ref.optims) {
    SCOPED_TRACE(c.name + ": " + c.config);
    covered.insert(config::load_yaml(c.config, "case").root.find("_target_")->as_string());
    auto w = to_tensor(ref.tensors.at("init.w")).requires_grad_(true);
    auto b = to_tensor(ref.tensors.at("init.b")).requires_grad_(true);
    auto optimizer = build("optimizer: " + c.config + "\n", {w, b});
    for (int step = 0; step < 20; ++step) {
      if (c.lrs) apply_lr(*optimizer, c.lrs->at(step));
      const std::string prefix = "grad." + std::to_string(step) + ".";
      ASSERT_TRUE(ref.tensors.count(prefix + "w")) << "no gradient for step " << step;
      w.mutable_grad() = to_tensor(ref.tensors.at(prefix + "w"));
      b.mutable_grad() = to_tensor(ref.tensors.at(prefix + "b"));
      optimizer->step();
    }
    auto got = torch::cat({w.detach().reshape(-1), b.detach().reshape(-1)}).to(torch::kDouble);
    ASSERT_EQ(static_cast<std::size_t>(got.numel()), c.final_params.size());
    auto values = got.accessor<double, 1>();
    for (std::size_t i = 0; i < c.final_params.size(); ++i) {
      const double expected = c.final_params[i];
      EXPECT_NEAR(values[static_cast<std::int64_t>(i)], expected, kRelTol * std::abs(expected) + kAbsTol)
          << "parameter " << i;
    }
  }
  for (const auto& name : kiln::registry<torch::optim::Optimizer>().names()) {
    EXPECT_TRUE(covered.count(name)) << "no parity case for optimizer '" << name << "'";
  }
}

TEST(Optim, DefaultsArePyTorchs) {
  auto adamw = build("optimizer: {_target_: adamw}\n");
  const auto& o = static_cast<const torch::optim::AdamWOptions&>(adamw->param_groups().front().options());
  EXPECT_DOUBLE_EQ(o.lr(), 1e-3);
  EXPECT_DOUBLE_EQ(o.weight_decay(), 0.01);
  EXPECT_DOUBLE_EQ(std::get<0>(o.betas()), 0.9);
  EXPECT_DOUBLE_EQ(std::get<1>(o.betas()), 0.999);
  EXPECT_DOUBLE_EQ(o.eps(), 1e-8);
  EXPECT_FALSE(o.amsgrad());
  auto adam = build("optimizer: {_target_: adam}\n");
  EXPECT_DOUBLE_EQ(static_cast<const torch::optim::AdamOptions&>(adam->param_groups().front().options()).weight_decay(),
                   0.0);
}

TEST(Optim, OptionsReachTheTorchOptimizer) {
  auto sgd = build("optimizer: {_target_: sgd, lr: 0.2, momentum: 0.8, dampening: 0.1, weight_decay: 0.01}\n");
  ASSERT_NE(dynamic_cast<torch::optim::SGD*>(sgd.get()), nullptr);
  const auto& o = static_cast<const torch::optim::SGDOptions&>(sgd->param_groups().front().options());
  EXPECT_DOUBLE_EQ(o.lr(), 0.2);
  EXPECT_DOUBLE_EQ(o.momentum(), 0.8);
  EXPECT_DOUBLE_EQ(o.dampening(), 0.1);
  EXPECT_DOUBLE_EQ(o.weight_decay(), 0.01);
  EXPECT_FALSE(o.nesterov());
  EXPECT_DOUBLE_EQ(current_lr(*sgd), 0.2);
}

// weight_decay_1d: false (nanoGPT's and timm's grouping): with zero
// gradients the only change a step makes is weight decay, so a matrix
// shrinks and a bias does not.
TEST(Optim, WithoutWeightDecayOn1dParametersOnlyMatricesDecay) {
  for (const std::string target : {"adamw, fused: true", "adamw, fused: false", "adam, fused: true", "sgd"}) {
    torch::Tensor matrix = torch::ones({3, 2}, torch::requires_grad()), bias = torch::ones({2}, torch::requires_grad());
    auto opt = build("optimizer: {_target_: " + target + ", lr: 0.1, weight_decay: 0.5, weight_decay_1d: false}\n",
                     {bias, matrix});
    ASSERT_EQ(opt->param_groups().size(), 2u) << target;
    EXPECT_TRUE(opt->param_groups()[0].params()[0].is_same(matrix)) << "matrices first";
    EXPECT_TRUE(opt->param_groups()[1].params()[0].is_same(bias));
    matrix.mutable_grad() = torch::zeros_like(matrix);
    bias.mutable_grad() = torch::zeros_like(bias);
    opt->step();
    EXPECT_TRUE(torch::equal(bias, torch::ones({2}))) << target << ": a 1-D parameter decayed";
    EXPECT_LT(matrix.max().item<double>(), 1.0) << target << ": the matrix did not decay";
  }
  // The default decays both, in one group.
  torch::Tensor bias = torch::ones({2}, torch::requires_grad());
  auto opt = build("optimizer: {_target_: adamw, lr: 0.1, weight_decay: 0.5}\n", {bias});
  EXPECT_EQ(opt->param_groups().size(), 1u);
  bias.mutable_grad() = torch::zeros_like(bias);
  opt->step();
  EXPECT_LT(bias.max().item<double>(), 1.0);
}

TEST(OptimErrors, NesterovWithoutMomentumNamesTheKey) {
  auto d = config_error([] { build("optimizer:\n  _target_: sgd\n  nesterov: true\n"); });
  EXPECT_EQ(d.key, "optimizer.nesterov");
  EXPECT_EQ(d.source.str(), "train.yaml:3:13");
  EXPECT_NE(d.message.find("nesterov needs momentum > 0 and dampening 0, found momentum 0 and dampening 0"),
            std::string::npos)
      << d.message;
  EXPECT_NE(d.hint.find("nesterov: false"), std::string::npos) << d.hint;
}

TEST(OptimErrors, NesterovWithDampeningIsRefused) {
  auto d = config_error([] { build("optimizer: {_target_: sgd, momentum: 0.9, dampening: 0.5, nesterov: true}\n"); });
  EXPECT_EQ(d.key, "optimizer.nesterov");
  EXPECT_NE(d.message.find("found momentum 0.9 and dampening 0.5"), std::string::npos) << d.message;
}

TEST(OptimErrors, BetasMustBeTwoFloatsBelowOne) {
  for (const char* target : {"adam", "adamw"}) {
    auto d = config_error([&] { build(std::string("optimizer:\n  _target_: ") + target + "\n  betas: [0.9, 1.0]\n"); });
    EXPECT_EQ(d.key, "optimizer.betas") << target;
    EXPECT_EQ(d.source.str(), "train.yaml:3:10") << target;
    EXPECT_NE(d.message.find("expected two floats in [0, 1), found [0.9, 1]"), std::string::npos) << d.message;
  }
  auto three = config_error([] { build("optimizer: {_target_: adam, betas: [0.9, 0.99, 0.999]}\n"); });
  EXPECT_NE(three.message.find("found [0.9, 0.99, 0.999]"), std::string::npos) << three.message;
  auto negative = config_error([] { build("optimizer: {_target_: adam, betas: [-0.1, 0.99]}\n"); });
  EXPECT_EQ(negative.key, "optimizer.betas");
}

TEST(OptimErrors, BetasOfTheWrongTypeAreFoundWhenBinding) {
  register_builtin_optimizers();
  auto root = config::load_yaml("optimizer:\n  _target_: adam\n  betas: [0.9, high]\n", "train.yaml").root;
  config::Diagnostics diags;
  EXPECT_FALSE(kiln::registry<torch::optim::Optimizer>().validate_at(root, {"optimizer"}, diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.items()[0].key, "optimizer.betas[1]");
  EXPECT_EQ(diags.items()[0].source.str(), "train.yaml:3:16");
}

TEST(OptimErrors, NegativeLrIsOutOfRange) {
  auto d = config_error([] { build("optimizer:\n  _target_: sgd\n  lr: -0.1\n"); });
  EXPECT_EQ(d.key, "optimizer.lr");
  EXPECT_EQ(d.source.str(), "train.yaml:3:7");
  EXPECT_NE(d.message.find("x >= 0"), std::string::npos) << d.message;
}

TEST(OptimErrors, UnknownOptimizerSuggestsTheClosest) {
  auto d = config_error([] { build("optimizer:\n  _target_: adamww\n"); });
  EXPECT_EQ(d.key, "optimizer._target_");
  EXPECT_EQ(d.source.str(), "train.yaml:2:13");
  EXPECT_NE(d.message.find("unknown optimizer 'adamww' (expected one of: adam, adamw, sgd)"), std::string::npos)
      << d.message;
  EXPECT_NE(d.hint.find("did you mean 'adamw'"), std::string::npos) << d.hint;
}

TEST(OptimErrors, UnknownParameterSuggestsThePyTorchName) {
  auto d = config_error([] { build("optimizer:\n  _target_: adamw\n  weight_decy: 0.1\n"); });
  EXPECT_EQ(d.key, "optimizer.weight_decy");
  EXPECT_NE(d.hint.find("did you mean 'optimizer.weight_decay'?"), std::string::npos) << d.hint;
}

TEST(OptimErrors, AllParameterProblemsAreReportedTogether) {
  try {
    build("optimizer:\n  _target_: adamw\n  weight_decy: 0.1\n  lr: -0.1\n");
    FAIL() << "no ConfigError";
  } catch (const config::ConfigError& e) {
    ::testing::Test::RecordProperty("error", e.what());
    ASSERT_EQ(e.diagnostics().size(), 2u) << e.what();
    std::set<std::string> keys;
    for (const auto& d : e.diagnostics()) keys.insert(d.key + " at " + d.source.str());
    EXPECT_EQ(keys,
              (std::set<std::string>{"optimizer.weight_decy at train.yaml:3:16", "optimizer.lr at train.yaml:4:7"}));
  }
}

TEST(ShippedConfigs, EveryOptimizerFileInstantiates) {
  register_builtin_optimizers();
  const std::filesystem::path dir = std::filesystem::path(KILN_SOURCE_DIR) / "configs" / "optimizer";
  std::set<std::string> targets;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    auto root = config::load_yaml_file(entry.path().string()).root;
    targets.insert(root.find("_target_")->as_string());
    auto w = torch::ones({3}, torch::requires_grad());
    auto optimizer = kiln::instantiate<torch::optim::Optimizer>(root, std::vector<torch::Tensor>{w});
    EXPECT_DOUBLE_EQ(current_lr(*optimizer), root.find("lr")->as_float());
    w.mutable_grad() = torch::ones({3});
    optimizer->step();
    EXPECT_LT(w.detach()[0].item<double>(), 1.0);
  }
  EXPECT_EQ(targets, (std::set<std::string>{"adam", "adamw", "sgd"}));
}

}  // namespace
}  // namespace kiln::train
