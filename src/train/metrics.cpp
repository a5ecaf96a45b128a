#include "kiln/train/metrics.h"

#include <limits>
#include <string>

#include "kiln/error.h"

namespace kiln::train {
namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string out = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TopKAccuracy::TopKAccuracy(std::int64_t k) : k_(k) {
  if (k < 1) throw Error("TopKAccuracy: k must be >= 1, found " + std::to_string(k));
}

void TopKAccuracy::update(const torch::Tensor& output, const torch::Tensor& target) {
  torch::NoGradGuard no_grad;
  if (output.dim() != 2 || target.dim() != 1 || output.size(0) != target.size(0))
    throw Error("top-k accuracy expects output [N, C] and target [N], found " + shape_of(output) + " and " +
                shape_of(target));
  if (k_ > output.size(1))
    throw Error("top-k accuracy: k = " + std::to_string(k_) + " but the output has only " +
                std::to_string(output.size(1)) + " classes");
  torch::Tensor hits;
  if (k_ == 1) {
    hits = (output.argmax(1) == target).sum();
  } else {
    hits = (std::get<1>(output.topk(k_, 1)) == target.unsqueeze(1)).any(1).sum();
  }
  add_hits(hits, target.size(0));
}

void TopKAccuracy::add_hits(const torch::Tensor& hits, std::int64_t examples) {
  correct_ = correct_.defined() ? correct_ + hits : hits;
  total_ += examples;
}

double TopKAccuracy::compute() const {
  if (total_ == 0) return kNaN;
  return static_cast<double>(correct_.item<std::int64_t>()) / static_cast<double>(total_);
}

void TopKAccuracy::reset() {
  correct_ = torch::Tensor();
  total_ = 0;
}

void Accuracy::update(const torch::Tensor& output, const torch::Tensor& target) {
  if (output.sizes() != target.sizes()) return TopKAccuracy::update(output, target);
  torch::NoGradGuard no_grad;
  add_hits((output == target).sum(), target.numel());  // already class indices
}

void Mean::update(const torch::Tensor& value, const torch::Tensor& weight) {
  torch::NoGradGuard no_grad;
  torch::Tensor v = value.detach().to(torch::kFloat64);
  torch::Tensor w =
      weight.defined() ? weight.detach().to(v.device(), torch::kFloat64).expand_as(v) : torch::ones_like(v);
  torch::Tensor s = (v * w).sum();
  torch::Tensor ws = w.sum();
  sum_ = sum_.defined() ? sum_ + s : s;
  weight_ = weight_.defined() ? weight_ + ws : ws;
}

void Mean::update(const torch::Tensor& value, double weight) {
  torch::NoGradGuard no_grad;
  torch::Tensor v = value.detach().to(torch::kFloat64);
  torch::Tensor s = v.sum() * weight;
  double ws = weight * static_cast<double>(v.numel());
  sum_ = sum_.defined() ? sum_ + s : s;
  weight_ = weight_.defined() ? weight_ + ws : torch::full({}, ws, v.options());
}

double Mean::compute() const {
  if (!sum_.defined()) return kNaN;
  return (sum_ / weight_).item<double>();
}

void Mean::reset() {
  sum_ = torch::Tensor();
  weight_ = torch::Tensor();
}

void register_builtin_metrics() {
  static const bool registered = [] {
    auto& metrics = kiln::registry<Metric>();
    metrics.add("accuracy", [] { return std::make_shared<Accuracy>(); });
    config::Schema<TopKAccuracyOptions> topk("top_k_accuracy",
                                             {.doc = "fraction of examples whose class is among the k best scores"});
    topk.field("k", &TopKAccuracyOptions::k).doc("classes counted as a hit").min(1);
    metrics.add("top_k_accuracy", std::move(topk),
                [](const TopKAccuracyOptions& o) { return std::make_shared<TopKAccuracy>(o.k); });
    metrics.add("mean", [] { return std::make_shared<Mean>(); });
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::train
