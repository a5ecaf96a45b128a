// kiln's own seeded shuffling, so the data order is a specification rather
// than an accident of a library version: the same (seed, epoch) gives the
// same order on every platform, compiler and LibTorch version (torch::randperm
// and std::shuffle promise none of that).
//
// The algorithm, fixed; changing any step changes every run's data order:
//   mix64(x)            SplitMix64's output function of x + 0x9E3779B97F4A7C15
//                       (Steele, Lea & Flood 2014)
//   derive_seed(s, v)   mix64(mix64(s) ^ v)
//   epoch_seed(s, e)    derive_seed(s, e), e as a 64-bit two's-complement value
//   SplitMix64(seed)    state += 0x9E3779B97F4A7C15; output = mix of the state
//   below(n)            Lemire's multiply-shift with rejection: unbiased in [0, n)
//   random_permutation  Fisher-Yates: for i = n-1 down to 1, swap p[i] with p[below(i + 1)]
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::data {

// A 64-bit hash with good avalanche (SplitMix64's finaliser).
std::uint64_t mix64(std::uint64_t x);

// A seed for the stream `value` of `seed` (an epoch, a split): distinct
// values give unrelated seeds.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t value);

// The seed of epoch `epoch`'s order for a loader seeded with `seed`.
std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch);

// SplitMix64: a small, fast PRNG with a 64-bit state. Not for cryptography.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  // The next 64 random bits.
  std::uint64_t next();
  // Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n);

 private:
  std::uint64_t state_;
};

// 0..n-1 in a random order determined by `seed` alone.
std::vector<std::int64_t> random_permutation(std::size_t n, std::uint64_t seed);

}  // namespace kiln::data
