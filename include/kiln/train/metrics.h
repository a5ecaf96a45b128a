// Stateful metrics (torchmetrics' idea): update() once per batch, compute()
// at the end of a stage, reset() before the next one.
//
//   kiln::train::Accuracy acc;
//   for (auto& batch : batches) acc.update(model(batch.input), batch.target);
//   double value = acc.compute();  // one host sync
//   acc.reset();
//
// State is kept as tensors on the device of the first batch, so update()
// never waits for the device (no .item(), no copy to the host); only
// compute() does. Inside a kiln::Module, log(name, metric) hands the metric
// to the Trainer, which computes and resets it when it reduces that stage's
// values (Lightning's self.log(name, metric_object)).
//
// Metrics are a registry kind named "metric" (no runtime arguments):
//   accuracy         Accuracy
//   top_k_accuracy   TopKAccuracy (k, default 5)
//   mean             Mean
// register_builtin_metrics() adds them; users add theirs with
//   KILN_REGISTER(kiln::train::Metric, "my_metric", my_schema(), make_my_metric);
//
// Thread safety: none; one metric per stage of one module.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "kiln/registry.h"

namespace kiln::train {

class Metric {
 public:
  virtual ~Metric() = default;
  // Adds one batch: the model's `output` and the batch's `target` (each
  // metric says how it reads them). Tensors are detached; no host sync.
  virtual void update(const torch::Tensor& output, const torch::Tensor& target) = 0;
  // The value over every batch since the last reset; NaN when none was
  // added. One host sync.
  virtual double compute() const = 0;
  // Forgets every batch.
  virtual void reset() = 0;
};

// Top-k accuracy: the fraction of examples whose target class is among the
// k highest scores of `output` ([N, C] logits or probabilities; `target` [N]
// class indices). k = 1 is accuracy. Throws kiln::Error for k > C or shapes
// that do not match.
class TopKAccuracy : public Metric {
 public:
  explicit TopKAccuracy(std::int64_t k = 5);
  void update(const torch::Tensor& output, const torch::Tensor& target) override;
  double compute() const override;
  void reset() override;
  std::int64_t k() const { return k_; }

 protected:
  // Counts `hits` (an int64 scalar tensor) out of `examples`.
  void add_hits(const torch::Tensor& hits, std::int64_t examples);

 private:
  std::int64_t k_;
  torch::Tensor correct_;  // int64 scalar on the batches' device; undefined until the first update
  std::int64_t total_ = 0;
};

// Accuracy: TopKAccuracy with k = 1. `output` may also be predicted class
// indices of the target's shape ([N]), compared as they are.
class Accuracy final : public TopKAccuracy {
 public:
  Accuracy() : TopKAccuracy(1) {}
  void update(const torch::Tensor& output, const torch::Tensor& target) override;
};

// A running weighted mean of any value (torchmetrics' MeanMetric):
// update(value, weight) adds every element of `value` with weight `weight`
// (broadcast to value's shape; undefined: 1 each). Accumulated in float64.
class Mean final : public Metric {
 public:
  void update(const torch::Tensor& value, const torch::Tensor& weight) override;
  // Every element of `value` with the same weight.
  void update(const torch::Tensor& value, double weight = 1.0);
  double compute() const override;
  void reset() override;

 private:
  torch::Tensor sum_;     // float64 scalars on the values' device; undefined until the first update
  torch::Tensor weight_;  // sum of weights
};

struct TopKAccuracyOptions {
  std::int64_t k = 5;  // classes counted as a hit; >= 1
};

// Registers accuracy, top_k_accuracy and mean with
// kiln::registry<Metric>(); idempotent and thread-safe.
void register_builtin_metrics();

}  // namespace kiln::train

KILN_DEFINE_KIND(kiln::train::Metric, "metric");
