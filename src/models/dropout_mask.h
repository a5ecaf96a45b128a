// The mask of kiln::models::Dropout: torch-free, compiled with -O3 by
// CMakeLists.txt. Element i of the mask is `scale` when the top 32 bits of
// SplitMix64(seed + offset + i) are >= `drop_threshold`, else 0.
#pragma once

#include <cstdint>

namespace kiln::models {

// drop_threshold = round(p * 2^32): P(drop) = drop_threshold / 2^32.
void fill_dropout_mask(float* mask, std::int64_t n, std::uint64_t seed, std::uint64_t offset,
                       std::uint64_t drop_threshold, float scale);

}  // namespace kiln::models
