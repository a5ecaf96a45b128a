// Text for `kiln list` and for help on one factory's parameters.
//
//   format_factory_list(kiln::registry<Optimizer>()):
//     adamw  AdamW (decoupled weight decay)
//     sgd    stochastic gradient descent
//
//   format_factory_help(*optimizers.info("adamw"), nullptr, {"optimizer"}):
//     optimizer=adamw: AdamW (decoupled weight decay)
//     KEY                     TYPE   DEFAULT  DESCRIPTION
//     optimizer.lr            float  0.001    learning rate; x >= 0
//     optimizer.weight_decay  float  0.01     decoupled weight decay
#pragma once

#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/registry/registry.h"

namespace kiln {

// One line per registered factory, sorted by name: two spaces, the name
// padded to the longest, two spaces and its doc (no trailing spaces), each
// ending in "\n". "  (none registered)\n" when there is none.
std::string format_factory_list(const AnyRegistry& registry);

// A section per kind, in the order given: "<kind>:\n" then its list;
// sections separated by a blank line. Pass kinds() for every kind.
std::string format_catalog(const std::vector<const AnyRegistry*>& registries);

// "<kind>=<name>: <doc>\n" (": <doc>" left out when there is none), then
// config::format_help of the parameters (keys prefixed by `at`, CURRENT
// from `current`), or "  (no parameters)\n".
std::string format_factory_help(const FactoryInfo& info, const config::Node* current = nullptr,
                                const config::KeyPath& at = {});

}  // namespace kiln
