// The Module of language-model training: next-token prediction.
//
// Each batch holds token windows: input [B, T] and target [B, T], the same
// tokens shifted by one (what data::TokenWindowsDataModule yields). The loss
// is the mean cross-entropy over every target token, logged as
// <stage>/loss; <stage>/ppl is the perplexity, exp of the mean loss over the
// whole stage (over the tokens since the last logging step, in training).
//
// Registered as the module `language_model` (register_builtin_modules()):
//   module: {_target_: language_model}
#pragma once

#include <memory>

#include "kiln/config/schema.h"
#include "kiln/models/network.h"
#include "kiln/train/metrics.h"
#include "kiln/train/module.h"

namespace kiln {

struct LanguageModelOptions {
  // Target ids equal to it add nothing to the loss (padding); -100, as
  // PyTorch's cross_entropy, never occurs in token files.
  std::int64_t ignore_index = -100;
};

config::Schema<LanguageModelOptions> language_model_schema();

// exp(mean cross-entropy) over every token seen since the last reset.
class Perplexity final : public train::Metric {
 public:
  // `output`: per-token losses; `target`: their weights (the token counts).
  void update(const torch::Tensor& token_losses, const torch::Tensor& weights) override;
  double compute() const override;
  void reset() override { mean_.reset(); }

 private:
  train::Mean mean_;
};

class LanguageModelModule : public Module {
 public:
  // `network` maps [B, T] token ids to [B, T, vocab] logits (models::Gpt).
  explicit LanguageModelModule(std::shared_ptr<models::Network> network, LanguageModelOptions options = {});

  torch::Tensor training_step(const data::Batch& batch, std::int64_t batch_idx) override;
  void validation_step(const data::Batch& batch, std::int64_t batch_idx) override;
  void test_step(const data::Batch& batch, std::int64_t batch_idx) override;
  // The next-token distribution after each window: softmax of the last
  // position's logits, [B, vocab].
  torch::Tensor predict_step(const data::Batch& batch, std::int64_t batch_idx) override;

  models::Network& network() { return *network_; }

 private:
  torch::Tensor evaluate(const data::Batch& batch, const std::string& stage, Perplexity& perplexity);

  std::shared_ptr<models::Network> network_;
  LanguageModelOptions options_;
  Perplexity train_ppl_, val_ppl_, test_ppl_;
};

}  // namespace kiln
