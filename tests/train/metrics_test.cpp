// Stateful metrics and losses, alone and as registry kinds.
#include "kiln/train/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"
#include "kiln/train/losses.h"

namespace kiln::train {
namespace {

config::Node yaml(const std::string& text) { return config::load_yaml(text, "test.yaml").root; }

TEST(Metrics, AccuracyCountsArgmaxHitsOverEveryBatchUntilReset) {
  Accuracy acc;
  EXPECT_TRUE(std::isnan(acc.compute()));
  acc.update(torch::tensor({{0.1, 0.9}, {0.8, 0.2}}), torch::tensor({1, 1}));  // 1 of 2
  acc.update(torch::tensor({{0.3, 0.7}}), torch::tensor({1}));                 // 1 of 1
  EXPECT_DOUBLE_EQ(acc.compute(), 2.0 / 3.0);
  acc.reset();
  acc.update(torch::tensor({{0.9, 0.1}}), torch::tensor({1}));
  EXPECT_DOUBLE_EQ(acc.compute(), 0.0);
}

TEST(Metrics, AccuracyTakesPredictedIndicesToo) {
  Accuracy acc;
  acc.update(torch::tensor({2, 0, 1, 1}), torch::tensor({2, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(acc.compute(), 0.75);
}

TEST(Metrics, TopKAccuracyCountsTheTargetAmongTheKBest) {
  TopKAccuracy top2(2);
  torch::Tensor scores = torch::tensor({{0.5, 0.3, 0.2}, {0.1, 0.2, 0.7}, {0.6, 0.3, 0.1}});
  top2.update(scores, torch::tensor({1, 0, 2}));  // hit, miss, miss
  EXPECT_DOUBLE_EQ(top2.compute(), 1.0 / 3.0);
  TopKAccuracy top3(3);
  top3.update(scores, torch::tensor({1, 0, 2}));
  EXPECT_DOUBLE_EQ(top3.compute(), 1.0);
}

TEST(Metrics, TopKAccuracyRefusesMoreClassesThanTheOutputHas) {
  TopKAccuracy top5(5);
  try {
    top5.update(torch::zeros({2, 3}), torch::tensor({0, 1}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only 3 classes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(TopKAccuracy(0), Error);
}

TEST(Metrics, MeanIsTheWeightedMeanOfEveryElement) {
  Mean mean;
  mean.update(torch::tensor({1.0, 3.0}));                          // weight 1 each
  mean.update(torch::tensor(10.0), 2.0);                           // weight 2
  mean.update(torch::tensor({4.0}), torch::tensor({0.0}));         // weight 0: no effect
  EXPECT_DOUBLE_EQ(mean.compute(), (1.0 + 3.0 + 2 * 10.0) / 4.0);  // 6
  mean.reset();
  EXPECT_TRUE(std::isnan(mean.compute()));
}

TEST(Metrics, StateStaysOnTheBatchDevice) {
  // No host sync per update: the running count is a tensor, not a number.
  Accuracy acc;
  acc.update(torch::tensor({{0.0, 1.0}}), torch::tensor({1}));
  Mean mean;
  mean.update(torch::tensor({2.0}));
  EXPECT_DOUBLE_EQ(acc.compute(), 1.0);
  EXPECT_DOUBLE_EQ(mean.compute(), 2.0);
}

TEST(Metrics, BuiltInsAreRegisteredUnderTheirNames) {
  register_builtin_metrics();
  auto top = instantiate<Metric>(yaml("{_target_: top_k_accuracy, k: 2}"));
  ASSERT_TRUE(std::dynamic_pointer_cast<TopKAccuracy>(top));
  EXPECT_EQ(std::dynamic_pointer_cast<TopKAccuracy>(top)->k(), 2);
  EXPECT_EQ(std::dynamic_pointer_cast<TopKAccuracy>(instantiate<Metric>(yaml("{_target_: top_k_accuracy}")))->k(), 5);
  EXPECT_TRUE(std::dynamic_pointer_cast<Accuracy>(instantiate<Metric>(yaml("{_target_: accuracy}"))));
  EXPECT_TRUE(std::dynamic_pointer_cast<Mean>(instantiate<Metric>(yaml("{_target_: mean}"))));
  EXPECT_THROW(instantiate<Metric>(yaml("{_target_: top_k_accuracy, k: 0}")), config::ConfigError);
  EXPECT_THROW(instantiate<Metric>(yaml("{_target_: accuracy, k: 2}")), config::ConfigError);
}

TEST(Losses, BuiltInsMatchTorchFunctional) {
  register_builtin_losses();
  namespace F = torch::nn::functional;
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({4, 3});
  torch::Tensor target = torch::tensor({0, 2, 1, 2});
  auto ce = instantiate<Loss>(yaml("{_target_: cross_entropy}"));
  EXPECT_TRUE(torch::equal((*ce)(logits, target), F::cross_entropy(logits, target)));
  auto smooth = instantiate<Loss>(yaml("{_target_: cross_entropy, label_smoothing: 0.1}"));
  EXPECT_TRUE(torch::allclose((*smooth)(logits, target),
                              F::cross_entropy(logits, target, F::CrossEntropyFuncOptions().label_smoothing(0.1))));
  EXPECT_FALSE(torch::allclose((*smooth)(logits, target), (*ce)(logits, target)));
  auto nll = instantiate<Loss>(yaml("{_target_: nll_loss}"));
  torch::Tensor logp = torch::log_softmax(logits, 1);
  EXPECT_TRUE(torch::equal((*nll)(logp, target), F::nll_loss(logp, target)));
  auto mse = instantiate<Loss>(yaml("{_target_: mse_loss}"));
  EXPECT_TRUE(torch::equal((*mse)(logits, target), F::mse_loss(logits, F::one_hot(target, 3).to(torch::kFloat))));
  torch::Tensor y = torch::randn({4, 3});
  EXPECT_TRUE(torch::equal((*mse)(logits, y), F::mse_loss(logits, y)));
  EXPECT_THROW(instantiate<Loss>(yaml("{_target_: cross_entropy, label_smoothing: 1.5}")), config::ConfigError);
}

}  // namespace
}  // namespace kiln::train
