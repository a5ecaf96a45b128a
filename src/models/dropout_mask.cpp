// The dropout mask loop: one SplitMix64 output per element.
#include "dropout_mask.h"

namespace kiln::models {

void fill_dropout_mask(float* mask, std::int64_t n, std::uint64_t seed, std::uint64_t offset,
                       std::uint64_t drop_threshold, float scale) {
  for (std::int64_t i = 0; i < n; ++i) {
    // SplitMix64 (Steele, Lea and Flood 2014) of the element's counter.
    std::uint64_t z = seed + (offset + static_cast<std::uint64_t>(i)) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    mask[i] = (z >> 32) >= drop_threshold ? scale : 0.0f;
  }
}

}  // namespace kiln::models
