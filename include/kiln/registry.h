// kiln's registry: config nodes with `_target_` become objects through named
// factories, as with Hydra's `instantiate`. Torch-free; the trainer layer
// declares its kinds (models, optimizers, schedulers, ...) on top of it.
//
//   registry/config_keys.h  the reserved keys (_target_, _partial_) and how a node splits
//   registry/partial.h      Partial<P, Args...>: a bound factory waiting for its runtime args
//   registry/registry.h     Registry<P, Args...>: named factories with typed, documented parameters
//   registry/kind.h         KILN_DEFINE_KIND, kiln::registry<P>(), kinds(), instantiate<P>()
//   registry/instance.h     Instance<U>: an options field holding a nested `_target_` node
//   registry/registrar.h    KILN_REGISTER: one-line registration from user code
//   registry/help.h         listings and parameter help for the CLI
//
// docs/registry.md is the user guide.
#pragma once

#include "kiln/registry/config_keys.h"
#include "kiln/registry/help.h"
#include "kiln/registry/instance.h"
#include "kiln/registry/kind.h"
#include "kiln/registry/partial.h"
#include "kiln/registry/registrar.h"
#include "kiln/registry/registry.h"
