#include "kiln/train/classification.h"

namespace kiln {

ClassificationModule::ClassificationModule(std::shared_ptr<models::Network> network)
    : network_(register_module("network", std::move(network))) {}

torch::Tensor ClassificationModule::evaluate(const data::Batch& batch, const std::string& stage) {
  torch::Tensor logits = network_->forward(batch.input);
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.target);
  torch::Tensor correct = (logits.argmax(1) == batch.target).to(torch::kFloat64).mean();
  std::int64_t n = batch.target.size(0);
  log(stage + "/loss", loss, n);
  log(stage + "/acc", correct, n);
  return loss;
}

torch::Tensor ClassificationModule::training_step(const data::Batch& batch, std::int64_t) {
  return evaluate(batch, "train");
}

void ClassificationModule::validation_step(const data::Batch& batch, std::int64_t) { evaluate(batch, "val"); }

void ClassificationModule::test_step(const data::Batch& batch, std::int64_t) { evaluate(batch, "test"); }

torch::Tensor ClassificationModule::predict_step(const data::Batch& batch, std::int64_t) {
  return network_->forward(batch.input).argmax(1);
}

}  // namespace kiln
