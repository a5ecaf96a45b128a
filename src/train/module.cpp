#include "kiln/train/module.h"

#include "kiln/error.h"

namespace kiln {

void LogBuffer::add(const std::string& name, const torch::Tensor& value, std::int64_t weight) {
  // One in-place kernel per logged value on the hot path: the float64 sum
  // absorbs value * weight (type promotion included) without temporaries.
  auto it = sums_.find(name);
  if (it == sums_.end()) {
    torch::Tensor sum = torch::zeros({}, value.options().dtype(torch::kFloat64));
    sum.add_(value.detach(), static_cast<double>(weight));
    sums_.emplace(name, std::make_pair(std::move(sum), weight));
  } else {
    it->second.first.add_(value.detach(), static_cast<double>(weight));
    it->second.second += weight;
  }
}

void LogBuffer::add_metric(const std::string& name, train::Metric* metric) { metrics_[name] = metric; }

Metrics LogBuffer::take_means() {
  Metrics out;
  for (auto& [name, sum] : sums_) out[name] = sum.first.item<double>() / static_cast<double>(sum.second);
  for (auto& [name, metric] : metrics_) {
    out[name] = metric->compute();
    metric->reset();
  }
  sums_.clear();
  metrics_.clear();
  return out;
}

torch::Tensor Module::predict_step(const data::Batch& batch, std::int64_t batch_idx) {
  throw Error("this Module does not implement predict_step");
}

void Module::log(const std::string& name, const torch::Tensor& value, std::int64_t batch_size) {
  if (log_sink_) log_sink_->add(name, value, batch_size);
}

void Module::log(const std::string& name, train::Metric& metric) {
  if (log_sink_) {
    log_sink_->add_metric(name, &metric);
  } else {
    metric.reset();
  }
}

void Module::log(const std::string& name, double value, std::int64_t batch_size) {
  if (log_sink_) log_sink_->add(name, torch::tensor(value, torch::kFloat64), batch_size);
}

}  // namespace kiln
