// The Module of the default experiment: a network trained with a loss
// (cross-entropy by default), logging the loss and its metrics for each
// stage as <stage>/loss and <stage>/<metric name>: train/loss, train/acc,
// val/loss, val/acc, test/loss, test/acc with the defaults.
//
// Registered as the module `classification` (register_builtin_modules()):
//   module:
//     _target_: classification
//     loss: {_target_: cross_entropy, label_smoothing: 0.0}
//     metrics:
//       acc: {_target_: accuracy}
//       top5_acc: {_target_: top_k_accuracy, k: 5}   # logged as val/top5_acc, ...
#pragma once

#include <map>
#include <memory>
#include <string>

#include "kiln/models/network.h"
#include "kiln/registry.h"
#include "kiln/train/losses.h"
#include "kiln/train/metrics.h"
#include "kiln/train/module.h"
#include "kiln/train/module_kind.h"

namespace kiln {

struct ClassificationOptions {
  // The training objective, called as loss(logits, target).
  Instance<train::Loss> loss{"cross_entropy"};
  // Metrics by the name they are logged under (after "<stage>/"), each
  // updated with (logits, target) on every batch of every stage. Names are
  // one key segment: letters, digits and '_'.
  std::map<std::string, Instance<train::Metric>> metrics{{"acc", Instance<train::Metric>("accuracy")}};
};

// The schema of ClassificationOptions, named "classification".
config::Schema<ClassificationOptions> classification_schema();

class ClassificationModule : public Module {
 public:
  // Builds the loss and one instance of each metric per stage (throws
  // ConfigError for a bad loss or metric node). Registers the built-in
  // losses and metrics first.
  explicit ClassificationModule(std::shared_ptr<models::Network> network, ClassificationOptions options = {});

  torch::Tensor training_step(const data::Batch& batch, std::int64_t batch_idx) override;
  void validation_step(const data::Batch& batch, std::int64_t batch_idx) override;
  void test_step(const data::Batch& batch, std::int64_t batch_idx) override;
  // Class probabilities, softmax(logits): [B, C].
  torch::Tensor predict_step(const data::Batch& batch, std::int64_t batch_idx) override;

  models::Network& network() { return *network_; }

 private:
  using StageMetrics = std::map<std::string, std::shared_ptr<train::Metric>>;
  // Loss and metrics of one batch, logged under `stage`/...
  torch::Tensor evaluate(const data::Batch& batch, const std::string& stage, StageMetrics& metrics);

  std::shared_ptr<models::Network> network_;
  std::shared_ptr<train::Loss> loss_;
  StageMetrics train_metrics_, val_metrics_, test_metrics_;
};

// Registers `classification` and `language_model` (language_model.h) with
// kiln::registry<Module>(); idempotent and thread-safe.
void register_builtin_modules();

}  // namespace kiln
