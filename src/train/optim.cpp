// Schemas, factories and registration of the built-in optimizers.
#include "kiln/train/optim.h"

#include <cstdio>
#include <string>
#include <tuple>

#include "kiln/train/fused_adam.h"

namespace kiln::train {
namespace {
namespace cfg = kiln::config;

std::string num(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// PyTorch's rule for Adam's betas: two coefficients, each in [0, 1). The
// schema's range() is inclusive, so the half-open bound is checked here.
std::tuple<double, double> checked_betas(const std::vector<double>& betas) {
  std::string found = "[";
  for (std::size_t i = 0; i < betas.size(); ++i) found += (i ? ", " : "") + num(betas[i]);
  found += "]";
  const bool ok = betas.size() == 2 && betas[0] >= 0.0 && betas[0] < 1.0 && betas[1] >= 0.0 && betas[1] < 1.0;
  if (!ok) {
    throw InvalidParam("betas", "expected two floats in [0, 1), found " + found,
                       "the usual values are [0.9, 0.999]; for long runs [0.9, 0.95]");
  }
  return {betas[0], betas[1]};
}

constexpr const char* kWeightDecay1dDoc =
    "weight decay on 1-D parameters too (biases, norm weights); false: matrices only, as nanoGPT and timm";

// The parameters as two groups, matrices and higher with `options` and 1-D
// ones (biases, normalisation weights) with weight decay 0; both groups
// exist even when one is empty, so the grouping shows in the optimizer.
template <class Options>
std::vector<torch::optim::OptimizerParamGroup> decay_groups(const std::vector<torch::Tensor>& params,
                                                            const Options& options) {
  std::vector<torch::Tensor> decayed, not_decayed;
  for (const torch::Tensor& p : params) (p.dim() >= 2 ? decayed : not_decayed).push_back(p);
  auto without_decay = std::make_unique<Options>(options);
  without_decay->weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<Options>(options));
  groups.emplace_back(not_decayed, std::move(without_decay));
  return groups;
}

// The optimizer of type T over `params`, in one group or, without weight
// decay on 1-D parameters, in decay_groups.
template <class T, class Options>
std::shared_ptr<torch::optim::Optimizer> build(std::vector<torch::Tensor> params, const Options& options,
                                               bool weight_decay_1d) {
  if (weight_decay_1d) return std::make_shared<T>(std::move(params), options);
  return std::make_shared<T>(decay_groups(params, options), options);
}

cfg::Schema<SgdOptions> sgd_schema() {
  cfg::Schema<SgdOptions> s("sgd", {.doc = "stochastic gradient descent, with optional (Nesterov) momentum"});
  s.field("lr", &SgdOptions::lr).doc("learning rate").min(0.0);
  s.field("momentum", &SgdOptions::momentum).doc("momentum factor").min(0.0);
  s.field("dampening", &SgdOptions::dampening).doc("dampening for momentum");
  s.field("weight_decay", &SgdOptions::weight_decay).doc("L2 penalty added to the gradient").min(0.0);
  s.field("nesterov", &SgdOptions::nesterov).doc("Nesterov momentum (needs momentum > 0, dampening 0)");
  s.field("weight_decay_1d", &SgdOptions::weight_decay_1d).doc(kWeightDecay1dDoc);
  return s;
}

// Adam and AdamW share their parameters; only the doc of weight_decay and
// its default (the struct's) differ.
template <class Options>
cfg::Schema<Options> adam_family_schema(const char* name, const char* doc, const char* weight_decay_doc) {
  cfg::Schema<Options> s(name, {.doc = doc});
  s.field("lr", &Options::lr).doc("learning rate").min(0.0);
  s.field("betas", &Options::betas).doc("running-average coefficients, two floats in [0, 1)");
  s.field("eps", &Options::eps).doc("added to the denominator for stability").min(0.0);
  s.field("weight_decay", &Options::weight_decay).doc(weight_decay_doc).min(0.0);
  s.field("amsgrad", &Options::amsgrad).doc("the AMSGrad variant");
  s.field("fused", &Options::fused)
      .doc("update each parameter in one pass on CPU (float32, contiguous); same state and checkpoints");
  s.field("weight_decay_1d", &Options::weight_decay_1d).doc(kWeightDecay1dDoc);
  return s;
}

}  // namespace

std::shared_ptr<torch::optim::Optimizer> make_sgd(const SgdOptions& o, std::vector<torch::Tensor> params) {
  if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0)) {
    throw InvalidParam("nesterov",
                       "nesterov needs momentum > 0 and dampening 0, found momentum " + num(o.momentum) +
                           " and dampening " + num(o.dampening),
                       "set momentum (e.g. 0.9) and dampening 0, or nesterov: false");
  }
  auto options = torch::optim::SGDOptions(o.lr)
                     .momentum(o.momentum)
                     .dampening(o.dampening)
                     .weight_decay(o.weight_decay)
                     .nesterov(o.nesterov);
  return build<torch::optim::SGD>(std::move(params), options, o.weight_decay_1d);
}

std::shared_ptr<torch::optim::Optimizer> make_adam(const AdamOptions& o, std::vector<torch::Tensor> params) {
  auto options = torch::optim::AdamOptions(o.lr)
                     .betas(checked_betas(o.betas))
                     .eps(o.eps)
                     .weight_decay(o.weight_decay)
                     .amsgrad(o.amsgrad);
  if (o.fused) return build<FusedAdam>(std::move(params), options, o.weight_decay_1d);
  return build<torch::optim::Adam>(std::move(params), options, o.weight_decay_1d);
}

std::shared_ptr<torch::optim::Optimizer> make_adamw(const AdamWOptions& o, std::vector<torch::Tensor> params) {
  auto options = torch::optim::AdamWOptions(o.lr)
                     .betas(checked_betas(o.betas))
                     .eps(o.eps)
                     .weight_decay(o.weight_decay)
                     .amsgrad(o.amsgrad);
  if (o.fused) return build<FusedAdamW>(std::move(params), options, o.weight_decay_1d);
  return build<torch::optim::AdamW>(std::move(params), options, o.weight_decay_1d);
}

void register_builtin_optimizers() {
  static const bool registered = [] {
    auto& optimizers = kiln::registry<torch::optim::Optimizer>();
    optimizers.add("sgd", sgd_schema(), make_sgd);
    optimizers.add("adam", adam_family_schema<AdamOptions>("adam", "Adam", "L2 penalty added to the gradient"),
                   make_adam);
    optimizers.add("adamw",
                   adam_family_schema<AdamWOptions>("adamw", "AdamW (Adam with decoupled weight decay)",
                                                    "decoupled weight decay: p -= lr * weight_decay * p"),
                   make_adamw);
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::train
