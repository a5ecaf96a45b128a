// The language_model Module with the GPT: its loss and perplexity, a short
// fit on a token file whose loss must fall, and the bf16 CPU path.
#include "kiln/train/language_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kiln/data/token_file.h"
#include "kiln/data/token_windows.h"
#include "kiln/models/gpt.h"
#include "kiln/train/precision.h"
#include "kiln/train/trainer.h"
#include "support/temp_dir.h"

namespace kiln {
namespace {

models::GptOptions tiny_gpt() {
  models::GptOptions o;
  o.vocab_size = 32;
  o.block_size = 16;
  o.n_layer = 2;
  o.n_head = 2;
  o.n_embd = 32;
  return o;
}

class RecordingLogger final : public Logger {
 public:
  void log_metrics(const Metrics& metrics, std::int64_t) override {
    for (const auto& [name, value] : metrics) history[name].push_back(value);
  }
  std::map<std::string, std::vector<double>> history;
};

TEST(LanguageModel, LossIsTheMeanTokenCrossEntropyAndPerplexityItsExp) {
  torch::manual_seed(0);
  auto gpt = models::make_gpt(tiny_gpt());
  LanguageModelModule module(gpt);
  torch::Tensor input = torch::randint(0, 32, {3, 16}, torch::kLong);
  torch::Tensor target = torch::randint(0, 32, {3, 16}, torch::kLong);
  torch::Tensor loss = module.training_step({input, target}, 0);
  torch::Tensor expected =
      torch::nn::functional::cross_entropy(gpt->forward(input).reshape({-1, 32}), target.reshape(-1));
  EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-6);

  Perplexity ppl;
  ppl.update(torch::tensor(2.0), torch::tensor(30.0, torch::kDouble));
  ppl.update(torch::tensor(1.0), torch::tensor(10.0, torch::kDouble));
  // Token-weighted: exp((2 * 30 + 1 * 10) / 40).
  EXPECT_NEAR(ppl.compute(), std::exp(70.0 / 40.0), 1e-9);
}

TEST(LanguageModel, PaddingTargetsAddNothingToTheLoss) {
  torch::manual_seed(1);
  auto gpt = models::make_gpt(tiny_gpt());
  LanguageModelModule module(gpt, LanguageModelOptions{.ignore_index = -100});
  torch::Tensor input = torch::randint(0, 32, {2, 16}, torch::kLong);
  torch::Tensor target = torch::randint(0, 32, {2, 16}, torch::kLong);
  torch::Tensor padded = target.clone();
  padded.narrow(1, 8, 8).fill_(-100);
  torch::Tensor logits = gpt->forward(input);
  torch::Tensor expected = torch::nn::functional::cross_entropy(logits.narrow(1, 0, 8).reshape({-1, 32}),
                                                                target.narrow(1, 0, 8).reshape(-1));
  EXPECT_NEAR(module.training_step({input, padded}, 0).item<double>(), expected.item<double>(), 1e-6);
  EXPECT_THROW(module.training_step({input, target.narrow(1, 0, 8)}, 0), Error);
}

TEST(LanguageModel, TinyGptLearnsARepeatingTextFromATokenFile) {
  testing::TempDir dir("kiln_lm_fit");
  // "the cat sat on the mat. " repeated: predictable after a few tokens.
  std::vector<std::uint32_t> tokens;
  const std::string sentence = "the cat sat on the mat. ";
  for (int i = 0; i < 400; ++i)
    for (char c : sentence) tokens.push_back(static_cast<std::uint32_t>(c) % 32);
  data::write_token_file(dir.path() / "text.bin", tokens, data::TokenWidth::kUInt16);

  torch::manual_seed(2);
  auto gpt = models::make_gpt(tiny_gpt());
  LanguageModelModule module(gpt);
  data::TokenWindowsOptions d;
  d.train_file = (dir.path() / "text.bin").string();
  d.block_size = 16;
  d.batch_size = 16;
  d.train_windows = 16 * 60;
  data::TokenWindowsDataModule data(d);

  TrainerOptions o;
  o.max_epochs = 1;
  o.num_sanity_val_steps = 0;
  o.num_threads = 1;
  o.log_every_n_steps = 10;
  o.enable_checkpointing = false;
  Trainer trainer(o);
  trainer.set_optimizer_factory([](std::vector<torch::Tensor> p) {
    return std::make_shared<torch::optim::AdamW>(p, torch::optim::AdamWOptions(3e-3));
  });
  auto logger = std::make_shared<RecordingLogger>();
  trainer.add_logger(logger);
  trainer.fit(module, data);
  const std::vector<double>& loss = logger->history["train/loss"];
  ASSERT_GE(loss.size(), 5u);
  // Uniform guessing over 32 ids costs ln 32 = 3.47; the sentence is nearly
  // deterministic once a few characters are seen.
  EXPECT_GT(loss.front(), 2.5);
  EXPECT_LT(loss.back(), 1.0) << "the loss did not fall";
  EXPECT_LT(trainer.callback_metrics().at("val/loss"), 1.0);
  EXPECT_NEAR(trainer.callback_metrics().at("val/ppl"), std::exp(trainer.callback_metrics().at("val/loss")), 0.05);
}

TEST(LanguageModel, TrainsUnderBf16AutocastOnTheCpu) {
  torch::manual_seed(4);
  auto gpt = models::make_gpt(tiny_gpt());
  torch::Tensor idx = torch::randint(0, 32, {4, 16}, torch::kLong);
  torch::Tensor logits;
  {
    train::AutocastGuard autocast(train::Precision::kBf16Mixed, torch::kCPU);
    logits = gpt->forward(idx);
  }
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
  torch::Tensor loss =
      torch::nn::functional::cross_entropy(logits.reshape({-1, 32}).to(torch::kFloat), idx.roll(-1, 1).reshape(-1));
  loss.backward();
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  // Gradients reach the weights, which stay float32.
  torch::Tensor grad = gpt->named_parameters()["transformer.h.0.attn.c_attn.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad.scalar_type(), torch::kFloat);
  EXPECT_GT(grad.abs().sum().item<double>(), 0);
  // Within bf16's precision of the float32 logits.
  torch::NoGradGuard no_grad;
  EXPECT_LT((logits.to(torch::kFloat) - gpt->forward(idx)).abs().max().item<double>(), 0.05);
}

}  // namespace
}  // namespace kiln
