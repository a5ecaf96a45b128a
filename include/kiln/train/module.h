// kiln::Module: what a researcher writes (PyTorch Lightning's LightningModule).
//
// A Module is a torch::nn::Module with step methods; the Trainer owns the
// loop, devices, precision, logging and checkpoints. Only training_step is
// required:
//
//   class MyModule : public kiln::Module {
//    public:
//     MyModule() { net_ = register_module("net", torch::nn::Linear(4, 2)); }
//     torch::Tensor training_step(const kiln::data::Batch& b, std::int64_t) override {
//       auto loss = torch::nn::functional::cross_entropy(net_->forward(b.input), b.target);
//       log("train/loss", loss);
//       return loss;
//     }
//    private:
//     torch::nn::Linear net_{nullptr};
//   };
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "kiln/data/batch.h"
#include "kiln/track/logger.h"
#include "kiln/train/metrics.h"

namespace kiln {

// Values logged during one stage, kept as tensors (no host sync per step)
// until the Trainer reduces them. Weighted means: a value logged with
// batch_size n counts n times.
class LogBuffer {
 public:
  void add(const std::string& name, const torch::Tensor& value, std::int64_t weight);
  // A stateful metric reported under `name`: take_means computes and resets
  // it. Not owned; it must outlive the next take_means.
  void add_metric(const std::string& name, train::Metric* metric);
  // Weighted means and metric values as doubles (host syncs), then empty.
  Metrics take_means();
  bool empty() const { return sums_.empty() && metrics_.empty(); }

 private:
  std::map<std::string, std::pair<torch::Tensor, std::int64_t>> sums_;
  std::map<std::string, train::Metric*> metrics_;
};

class Module : public torch::nn::Module {
 public:
  // The loss to back-propagate for one training batch.
  virtual torch::Tensor training_step(const data::Batch& batch, std::int64_t batch_idx) = 0;
  virtual void validation_step(const data::Batch& batch, std::int64_t batch_idx) {}
  virtual void test_step(const data::Batch& batch, std::int64_t batch_idx) {}
  // Outputs for one batch of `kiln predict`; the default throws.
  virtual torch::Tensor predict_step(const data::Batch& batch, std::int64_t batch_idx);
  // An optimizer of the module's own; nullptr (the default) lets the Trainer
  // build the one the config names (`optimizer:`).
  virtual std::shared_ptr<torch::optim::Optimizer> configure_optimizers() { return nullptr; }

  // Records a scalar under `name` ("train/loss", "val/acc"). Training values
  // are averaged over the steps between two logging steps; validation and
  // test values over the epoch, weighted by batch_size. Outside a step
  // (no Trainer running) the value is dropped.
  void log(const std::string& name, const torch::Tensor& value, std::int64_t batch_size = 1);
  void log(const std::string& name, double value, std::int64_t batch_size = 1);
  // Reports a stateful metric the module updates itself (Lightning's
  // self.log(name, metric)): when the Trainer reduces the stage's values it
  // calls metric.compute() and metric.reset(). Outside a step the metric is
  // reset. The metric must outlive the stage.
  void log(const std::string& name, train::Metric& metric);

 private:
  friend class Trainer;
  LogBuffer* log_sink_ = nullptr;  // set by the Trainer for the current stage
};

}  // namespace kiln
