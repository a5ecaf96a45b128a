// Private to sweep.cpp: the values of range(start, stop, step).
#pragma once

#include <cstddef>
#include <vector>

#include "kiln/config/node.h"

namespace kiln::config::sweep_range {

// The values of the range, each with `source`: Python's range() when all
// three are ints; otherwise floats exactly as Hydra's FloatRange computes
// them. Stops after `limit` + 1 values, so a result longer than `limit`
// means "too many". `step` must not be zero.
std::vector<Node> values(const Node& start, const Node& stop, const Node& step, std::size_t limit,
                         const Source& source);

}  // namespace kiln::config::sweep_range
