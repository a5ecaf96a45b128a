// A resolved config as the run store's params: one typed value per leaf,
// keyed by its dotted path ("optimizer.lr", "model.channels.0"). Maps and
// lists that are empty become a string param "{}" / "[]" so that every key
// of the config is visible.
#pragma once

#include <vector>

#include "kiln/config/node.h"
#include "kiln/track/run_store.h"

namespace kiln::track {

// Leaves in document order. Missing values ("???") become null.
std::vector<Param> flatten_params(const config::Node& resolved);

}  // namespace kiln::track
