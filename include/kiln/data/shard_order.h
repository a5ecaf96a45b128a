// The sample order of a streaming epoch, and each rank's part of it.
//
// Global order (independent of the number of ranks and workers):
//   1. the shards in random_permutation(num_shards, derive_seed(es, kShardStream))
//      order, es = epoch_seed(seed, epoch) (shuffle.h);
//   2. their samples streamed in index order through a shuffle buffer of
//      `buffer` slots (webdataset's shuffle(): fill the buffer, then for each
//      incoming sample emit the slot j = below(buffer) of
//      SplitMix64(derive_seed(es, kBufferStream)) and put the sample there;
//      at the end emit what is left in a random_permutation of the slots).
// Without shuffle the order is 0..n-1. The order is a pure function of
// (seed, epoch, shard sizes, buffer), as MosaicML Streaming's global order is.
//
// Ranks: the positions from `start` (samples of the epoch already consumed by
// all ranks together, 0 at an epoch's start) on are cut into global batches
// of batch_size * world_size positions; in global batch g, rank r takes the
// positions start + g*B*W + j*W + r for j = 0..B-1 (those < n). So the ranks'
// parts are disjoint and cover the rest of the epoch, and a resume at any
// `start`, with any world size, continues the same global order. With
// drop_last an incomplete last global batch is dropped on every rank, so all
// ranks see the same number of full batches (what lock-step data parallel
// training needs).
//
// Memory: the order of an epoch is n 64-bit numbers (8 bytes a sample).
// Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kiln::data {

struct EpochOrderOptions {
  std::uint64_t seed = 0;
  std::int64_t epoch = 0;
  bool shuffle = true;
  // Shuffle buffer slots; 1 keeps samples in shard order (shards still shuffled).
  std::size_t buffer = 10000;
};

inline constexpr std::uint64_t kShardStream = 0x7368617264ULL;     // "shard"
inline constexpr std::uint64_t kBufferStream = 0x627566666572ULL;  // "buffer"

// The global order of the epoch: sample numbers (ShardSet numbering) of
// shards with `shard_sizes` samples each.
std::vector<std::uint64_t> epoch_order(const std::vector<std::uint64_t>& shard_sizes, const EpochOrderOptions& options);

struct RankSlice {
  std::uint64_t start = 0;  // positions consumed before this slice
  std::size_t batch_size = 1;
  std::size_t world_size = 1;
  std::size_t rank = 0;
  bool drop_last = false;
};

// Global batches in [start, n) (see above), at most ceil((n - start) / (B*W)).
std::size_t global_batches(std::uint64_t n, const RankSlice& slice);

// The positions (indexes into the epoch order) of rank `slice.rank`'s
// batch `b` of the slice (b < global_batches); empty when the last global
// batch has no position for this rank.
std::vector<std::uint64_t> rank_batch_positions(std::uint64_t n, const RankSlice& slice, std::size_t b);

}  // namespace kiln::data
