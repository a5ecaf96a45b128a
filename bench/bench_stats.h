// What every benchmark reports: the median of its rounds (robust to the one
// round a noisy machine spoils). Torch- and config-free.
#pragma once

#include <algorithm>
#include <vector>

namespace kiln::bench {

inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace kiln::bench
