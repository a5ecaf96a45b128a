#include "kiln/data/shard_order.h"

#include <numeric>

#include "kiln/data/shuffle.h"

namespace kiln::data {

std::vector<std::uint64_t> epoch_order(const std::vector<std::uint64_t>& shard_sizes,
                                       const EpochOrderOptions& options) {
  std::vector<std::uint64_t> starts(shard_sizes.size() + 1, 0);
  std::partial_sum(shard_sizes.begin(), shard_sizes.end(), starts.begin() + 1);
  std::vector<std::uint64_t> order;
  order.reserve(starts.back());
  if (!options.shuffle) {
    for (std::uint64_t i = 0; i < starts.back(); ++i) order.push_back(i);
    return order;
  }
  const std::uint64_t es = epoch_seed(options.seed, options.epoch);
  const std::vector<std::int64_t> shards = random_permutation(shard_sizes.size(), derive_seed(es, kShardStream));
  SplitMix64 rng(derive_seed(es, kBufferStream));
  const std::size_t capacity = options.buffer == 0 ? 1 : options.buffer;
  std::vector<std::uint64_t> buffer;
  buffer.reserve(std::min<std::uint64_t>(capacity, starts.back()));
  for (const std::int64_t s : shards) {
    for (std::uint64_t i = starts[s]; i < starts[s + 1]; ++i) {
      if (buffer.size() < capacity) {
        buffer.push_back(i);
        continue;
      }
      const std::uint64_t j = rng.below(capacity);
      order.push_back(buffer[j]);
      buffer[j] = i;
    }
  }
  for (const std::int64_t j : random_permutation(buffer.size(), rng.next())) order.push_back(buffer[j]);
  return order;
}

std::size_t global_batches(std::uint64_t n, const RankSlice& slice) {
  if (slice.start >= n) return 0;
  const std::uint64_t left = n - slice.start;
  const std::uint64_t global = static_cast<std::uint64_t>(slice.batch_size) * slice.world_size;
  return static_cast<std::size_t>(slice.drop_last ? left / global : (left + global - 1) / global);
}

std::vector<std::uint64_t> rank_batch_positions(std::uint64_t n, const RankSlice& slice, std::size_t b) {
  std::vector<std::uint64_t> positions;
  const std::uint64_t first =
      slice.start + static_cast<std::uint64_t>(b) * slice.batch_size * slice.world_size + slice.rank;
  for (std::size_t j = 0; j < slice.batch_size; ++j) {
    const std::uint64_t p = first + static_cast<std::uint64_t>(j) * slice.world_size;
    if (p >= n) break;
    positions.push_back(p);
  }
  return positions;
}

}  // namespace kiln::data
