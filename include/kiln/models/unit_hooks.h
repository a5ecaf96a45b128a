// Sharding units: the parts of a network whose parameters ZeRO stage 3
// (FSDP) gathers just before their forward and releases after it.
//
// LibTorch's modules have no forward hooks, so a network says where its
// units are (Network::sharding_units) and runs each one's forward through
// Network::run_unit, which calls the UnitHooks installed on it. Without
// hooks run_unit is a plain call: a network pays nothing for being ready to
// be sharded.
#pragma once

#include <torch/torch.h>

namespace kiln::models {

class UnitHooks {
 public:
  virtual ~UnitHooks() = default;
  // Before `unit`'s forward: its parameters must hold their values.
  virtual void before_forward(torch::nn::Module& unit) = 0;
  // After it, with its output: the parameters may be released, provided
  // they come back before backward reaches the unit (the returned tensor is
  // what the network goes on with).
  virtual torch::Tensor after_forward(torch::nn::Module& unit, torch::Tensor output) = 0;
};

}  // namespace kiln::models
