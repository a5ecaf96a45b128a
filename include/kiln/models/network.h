// The model kind: a network that maps an input batch to outputs.
//
// The model zoo (mlp, cnn, resnet) and users' own models derive from
// Network and register a factory for `model: {_target_: NAME, ...}`:
//
//   KILN_REGISTER(kiln::models::Network, "my_net", my_net_schema(), make_my_net);
//
// A Network is a torch::nn::Module, so parameters(), train(), to(device)
// and serialization work as usual; forward() is virtual so the trainer can
// hold any of them behind one pointer.
//
// For ZeRO stage 3 (strategy=zero3 / fsdp) a network names its sharding
// units and runs them through run_unit / run_units (unit_hooks.h): each
// unit's parameters are then gathered just before its forward and released
// after it. A network that names none is sharded as one unit, gathered for
// the whole step.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "kiln/models/unit_hooks.h"
#include "kiln/registry.h"

namespace kiln::models {

class Network : public torch::nn::Module {
 public:
  // Outputs for a batch of inputs (logits, for the classifiers here).
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;

  // The submodules whose forward runs through run_unit, in forward order.
  // Parameters outside every unit (and those of units sharing a parameter)
  // stay gathered for the whole step, as FSDP's root module's do.
  virtual std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() { return {}; }
  // Installed by ZeRO stage 3 for the run; nullptr removes them.
  void set_unit_hooks(std::shared_ptr<UnitHooks> hooks) { unit_hooks_ = std::move(hooks); }

 protected:
  // `forward` (the unit's forward call) between the unit hooks, if any.
  torch::Tensor run_unit(torch::nn::Module& unit, const std::function<torch::Tensor()>& forward);
  // `layers` applied in order, each child with parameters as a unit.
  torch::Tensor run_units(torch::nn::Sequential& layers, torch::Tensor x);
  // The children of `layers` that have parameters: run_units' units.
  static std::vector<std::shared_ptr<torch::nn::Module>> units_of(const torch::nn::Sequential& layers);

 private:
  std::shared_ptr<UnitHooks> unit_hooks_;
};

// Registers mlp, cnn, resnet (zoo.h) and gpt (gpt.h) with
// kiln::registry<Network>(); idempotent.
// Called by the trainer: registrations inside a static library are dropped
// by the linker unless something calls into it.
void register_builtin_models();

}  // namespace kiln::models

KILN_DEFINE_KIND(kiln::models::Network, "model");
