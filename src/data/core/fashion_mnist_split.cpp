#include "kiln/data/fashion_mnist_split.h"

#include <algorithm>
#include <cmath>

#include "kiln/data/shuffle.h"

namespace kiln::data {

TrainValSplit split_train_val(std::size_t n, double val_fraction, std::uint64_t seed) {
  const auto n_val = static_cast<std::size_t>(std::llround(static_cast<double>(n) * val_fraction));
  std::vector<std::int64_t> order = random_permutation(n, derive_seed(seed, kFashionMnistSplitStream));
  const auto cut = order.begin() + static_cast<std::ptrdiff_t>(n_val);
  TrainValSplit split{std::vector<std::int64_t>(cut, order.end()), std::vector<std::int64_t>(order.begin(), cut)};
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.val.begin(), split.val.end());
  return split;
}

}  // namespace kiln::data
