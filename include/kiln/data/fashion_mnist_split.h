// Which of Fashion-MNIST's 60,000 training images are held out for
// validation: the one definition shared by FashionMnistDataModule and
// `kiln data pack --from fashion_mnist`, so shards hold exactly the splits the
// IDX path trains on. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::data {

// The seed stream of the split (derive_seed(seed, this)).
inline constexpr std::uint64_t kFashionMnistSplitStream = 0x73706c6974ULL;  // "split"

struct TrainValSplit {
  std::vector<std::int64_t> train;  // image numbers, increasing
  std::vector<std::int64_t> val;    // image numbers, increasing
};

// round(n * val_fraction) images chosen by
// random_permutation(n, derive_seed(seed, kFashionMnistSplitStream)) go to
// val, the rest to train; each keeps file order.
TrainValSplit split_train_val(std::size_t n, double val_fraction, std::uint64_t seed);

}  // namespace kiln::data
