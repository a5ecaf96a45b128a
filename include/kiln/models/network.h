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
#pragma once

#include <torch/torch.h>

#include "kiln/registry.h"

namespace kiln::models {

class Network : public torch::nn::Module {
 public:
  // Outputs for a batch of inputs (logits, for the classifiers here).
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
};

// Registers mlp, cnn, resnet (zoo.h) and gpt (gpt.h) with
// kiln::registry<Network>(); idempotent.
// Called by the trainer: registrations inside a static library are dropped
// by the linker unless something calls into it.
void register_builtin_models();

}  // namespace kiln::models

KILN_DEFINE_KIND(kiln::models::Network, "model");
