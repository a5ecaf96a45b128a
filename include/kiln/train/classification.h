// The Module of the default experiment: a network trained with cross-entropy,
// logging loss and accuracy for each stage (train/loss, train/acc, val/loss,
// val/acc, test/loss, test/acc).
#pragma once

#include "kiln/models/network.h"
#include "kiln/train/module.h"

namespace kiln {

class ClassificationModule : public Module {
 public:
  explicit ClassificationModule(std::shared_ptr<models::Network> network);

  torch::Tensor training_step(const data::Batch& batch, std::int64_t batch_idx) override;
  void validation_step(const data::Batch& batch, std::int64_t batch_idx) override;
  void test_step(const data::Batch& batch, std::int64_t batch_idx) override;
  torch::Tensor predict_step(const data::Batch& batch, std::int64_t batch_idx) override;

  models::Network& network() { return *network_; }

 private:
  // Loss and accuracy of one batch, logged under `stage`/...
  torch::Tensor evaluate(const data::Batch& batch, const std::string& stage);

  std::shared_ptr<models::Network> network_;
};

}  // namespace kiln
