#include "kiln/data/shuffle.h"

#include <cassert>
#include <numeric>
#include <utility>

namespace kiln::data {
namespace {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

std::uint64_t finalise(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

std::uint64_t mix64(std::uint64_t x) { return finalise(x + kGolden); }

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t value) { return mix64(mix64(seed) ^ value); }

std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch) {
  return derive_seed(seed, static_cast<std::uint64_t>(epoch));
}

std::uint64_t SplitMix64::next() {
  state_ += kGolden;
  return finalise(state_);
}

std::uint64_t SplitMix64::below(std::uint64_t n) {
  assert(n > 0);
  // Lemire, "Fast random integer generation in an interval" (2019): the high
  // half of a 128-bit product, rejecting the few low halves that would bias it.
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::vector<std::int64_t> random_permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), std::int64_t{0});
  SplitMix64 rng(seed);
  for (std::size_t i = n; i > 1; --i) {
    std::swap(order[i - 1], order[rng.below(i)]);
  }
  return order;
}

}  // namespace kiln::data
