#include "kiln/train/language_model.h"

#include <cmath>
#include <string>

#include "kiln/error.h"

namespace kiln {

config::Schema<LanguageModelOptions> language_model_schema() {
  using O = LanguageModelOptions;
  config::Schema<O> s("language_model", {.doc = "next-token prediction over token windows (loss and perplexity)"});
  s.field("ignore_index", &O::ignore_index).doc("target id that adds nothing to the loss (padding)");
  return s;
}

void Perplexity::update(const torch::Tensor& token_losses, const torch::Tensor& weights) {
  mean_.update(token_losses, weights);
}

double Perplexity::compute() const { return std::exp(mean_.compute()); }

LanguageModelModule::LanguageModelModule(std::shared_ptr<models::Network> network, LanguageModelOptions options)
    : network_(register_module("network", std::move(network))), options_(options) {}

torch::Tensor LanguageModelModule::evaluate(const data::Batch& batch, const std::string& stage,
                                            Perplexity& perplexity) {
  if (batch.input.dim() != 2 || !batch.target.sizes().equals(batch.input.sizes()))
    throw Error("language_model: expected input and target token windows of one shape [batch, sequence], got " +
                std::to_string(batch.input.dim()) + "-d input and " + std::to_string(batch.target.dim()) +
                "-d target (use a token data module, e.g. data=tokens)");
  torch::Tensor logits = network_->forward(batch.input);
  const std::int64_t vocab = logits.size(-1);
  torch::Tensor target = batch.target.reshape({-1});
  // Summed, then divided by the counted tokens: the same mean as
  // reduction=mean, and the count weights the stage's perplexity.
  torch::Tensor summed = torch::nn::functional::cross_entropy(
      logits.reshape({-1, vocab}).to(torch::kFloat), target,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(options_.ignore_index).reduction(torch::kSum));
  torch::Tensor counted = target.ne(options_.ignore_index).sum();
  torch::Tensor loss = summed / counted.clamp_min(1);
  log(stage + "/loss", loss, batch.input.size(0));
  perplexity.update(loss.detach(), counted.to(torch::kDouble));
  log(stage + "/ppl", perplexity);
  return loss;
}

torch::Tensor LanguageModelModule::training_step(const data::Batch& batch, std::int64_t) {
  return evaluate(batch, "train", train_ppl_);
}

void LanguageModelModule::validation_step(const data::Batch& batch, std::int64_t) { evaluate(batch, "val", val_ppl_); }

void LanguageModelModule::test_step(const data::Batch& batch, std::int64_t) { evaluate(batch, "test", test_ppl_); }

torch::Tensor LanguageModelModule::predict_step(const data::Batch& batch, std::int64_t) {
  return torch::softmax(network_->forward(batch.input).select(1, -1).to(torch::kFloat), -1);
}

}  // namespace kiln
