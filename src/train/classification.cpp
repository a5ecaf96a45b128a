#include "kiln/train/classification.h"

#include "kiln/config/error.h"
#include "kiln/train/language_model.h"

namespace kiln {
namespace {

void check_metric_name(const std::string& name) {
  bool ok =
      !name.empty() &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
  if (!ok)
    throw InvalidParam("metrics", "metric name '" + name + "' is not one key segment (letters, digits, '_')",
                       "name it like top5_acc; it is logged as val/top5_acc");
}

}  // namespace

config::Schema<ClassificationOptions> classification_schema() {
  using O = ClassificationOptions;
  config::Schema<O> s("classification", {.doc = "a network trained on class labels, with a loss and metrics"});
  s.field("loss", &O::loss).doc("the training objective (a loss node)");
  s.field("metrics", &O::metrics).doc("metrics by name, logged as <stage>/<name>");
  return s;
}

ClassificationModule::ClassificationModule(std::shared_ptr<models::Network> network, ClassificationOptions options)
    : network_(register_module("network", std::move(network))) {
  train::register_builtin_losses();
  train::register_builtin_metrics();
  loss_ = options.loss.create();
  for (const auto& [name, metric] : options.metrics) {
    check_metric_name(name);
    train_metrics_[name] = metric.create();
    val_metrics_[name] = metric.create();
    test_metrics_[name] = metric.create();
  }
}

torch::Tensor ClassificationModule::evaluate(const data::Batch& batch, const std::string& stage,
                                             StageMetrics& metrics) {
  torch::Tensor logits = network_->forward(batch.input);
  torch::Tensor loss = (*loss_)(logits, batch.target);
  log(stage + "/loss", loss, batch.target.size(0));
  torch::Tensor detached = logits.detach();
  for (auto& [name, metric] : metrics) {
    metric->update(detached, batch.target);
    log(stage + "/" + name, *metric);
  }
  return loss;
}

torch::Tensor ClassificationModule::training_step(const data::Batch& batch, std::int64_t) {
  return evaluate(batch, "train", train_metrics_);
}

void ClassificationModule::validation_step(const data::Batch& batch, std::int64_t) {
  evaluate(batch, "val", val_metrics_);
}

void ClassificationModule::test_step(const data::Batch& batch, std::int64_t) { evaluate(batch, "test", test_metrics_); }

torch::Tensor ClassificationModule::predict_step(const data::Batch& batch, std::int64_t) {
  return torch::softmax(network_->forward(batch.input), 1);
}

void register_builtin_modules() {
  static const bool registered = [] {
    kiln::registry<Module>().add(
        "classification", classification_schema(),
        [](const ClassificationOptions& o, std::shared_ptr<models::Network> network) -> std::shared_ptr<Module> {
          return std::make_shared<ClassificationModule>(std::move(network), o);
        });
    kiln::registry<Module>().add(
        "language_model", language_model_schema(),
        [](const LanguageModelOptions& o, std::shared_ptr<models::Network> network) -> std::shared_ptr<Module> {
          return std::make_shared<LanguageModelModule>(std::move(network), o);
        });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln
