// The module kind: kiln::Module factories chosen by the job's `module:`
// section. A factory receives the network the job built from `model:` as
// its runtime argument, so one module (how to train) works with every
// model (what to train).
//
//   module:
//     _target_: classification       # the default when `module:` is absent
//     loss: {_target_: cross_entropy}
//
// Register your own Module (docs/metrics.md has a full example):
//   std::shared_ptr<kiln::Module> make_my_module(const MyOptions& o, std::shared_ptr<kiln::models::Network> net);
//   KILN_REGISTER(kiln::Module, "my_module", my_schema(), make_my_module);
// and select it with `module._target_=my_module`.
#pragma once

#include <memory>

#include "kiln/models/network.h"
#include "kiln/registry.h"
#include "kiln/train/module.h"

KILN_DEFINE_KIND(kiln::Module, "module", std::shared_ptr<kiln::models::Network>);
