#include "kiln/data/shard_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace kiln::data {
namespace {

const std::vector<std::uint64_t> kShards = {100, 37, 100, 100, 64, 1, 99};  // 501 samples

std::uint64_t total() { return std::accumulate(kShards.begin(), kShards.end(), std::uint64_t{0}); }

TEST(ShardOrderTest, SameSeedAndEpochSameOrderOtherEpochOtherOrder) {
  const auto a = epoch_order(kShards, {.seed = 7, .epoch = 3, .buffer = 50});
  EXPECT_EQ(a, epoch_order(kShards, {.seed = 7, .epoch = 3, .buffer = 50}));
  EXPECT_NE(a, epoch_order(kShards, {.seed = 7, .epoch = 4, .buffer = 50}));
  EXPECT_NE(a, epoch_order(kShards, {.seed = 8, .epoch = 3, .buffer = 50}));
  // A permutation of every sample.
  std::vector<std::uint64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint64_t> all(total());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
}

TEST(ShardOrderTest, WithoutShuffleTheOrderIsSampleOrder) {
  const auto a = epoch_order(kShards, {.seed = 7, .epoch = 3, .shuffle = false});
  std::vector<std::uint64_t> all(total());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(a, all);
}

TEST(ShardOrderTest, BufferOfOneKeepsShardsWholeInShuffledShardOrder) {
  const auto a = epoch_order(kShards, {.seed = 1, .epoch = 0, .buffer = 1});
  // Consecutive within each shard: every step is +1 except at shard changes.
  std::size_t jumps = 0;
  for (std::size_t i = 1; i < a.size(); ++i) jumps += a[i] != a[i - 1] + 1;
  EXPECT_LE(jumps, kShards.size() - 1);
  EXPECT_NE(a.front(), 0u);  // shard 0 is not first under this seed
}

// Every rank's positions over the slice, in batch order.
std::vector<std::vector<std::uint64_t>> by_rank(std::uint64_t n, std::uint64_t start, std::size_t world,
                                                std::size_t batch, bool drop_last) {
  std::vector<std::vector<std::uint64_t>> out(world);
  for (std::size_t r = 0; r < world; ++r) {
    const RankSlice slice{start, batch, world, r, drop_last};
    for (std::size_t b = 0; b < global_batches(n, slice); ++b) {
      for (auto p : rank_batch_positions(n, slice, b)) out[r].push_back(p);
    }
  }
  return out;
}

TEST(ShardOrderTest, RanksAreDisjointAndCompleteFor2To4Ranks) {
  const std::uint64_t n = total();
  for (std::size_t world : {2u, 3u, 4u}) {
    const auto parts = by_rank(n, 0, world, 8, false);
    std::set<std::uint64_t> seen;
    std::size_t count = 0;
    for (const auto& part : parts) {
      count += part.size();
      seen.insert(part.begin(), part.end());
      // Balanced: ranks differ by at most one sample.
      EXPECT_LE(std::max(part.size(), parts[0].size()) - std::min(part.size(), parts[0].size()), 1u);
    }
    EXPECT_EQ(count, n) << world << " ranks";
    EXPECT_EQ(seen.size(), n) << world << " ranks";
    EXPECT_EQ(*seen.rbegin(), n - 1);
  }
}

TEST(ShardOrderTest, DropLastGivesEveryRankTheSameFullBatches) {
  const std::uint64_t n = total();  // 501 = 20 global batches of 24 and 21 left
  for (const auto& part : by_rank(n, 0, 3, 8, true)) EXPECT_EQ(part.size(), 20u * 8);
}

TEST(ShardOrderTest, ResumeAtAnyPointWithAnyWorldContinuesTheGlobalOrder) {
  const std::uint64_t n = total();
  const std::size_t batch = 4;
  // Consumed so far by 2 ranks: 7 global batches.
  const std::uint64_t start = 7 * batch * 2;
  for (std::size_t world : {1u, 2u, 3u, 4u}) {
    // Global batch g of the resumed run interleaves its ranks' batch g:
    // position start + g*B*W + j*W + r; reassembled, it is start, start+1, ...
    std::vector<std::uint64_t> reassembled;
    const RankSlice first{start, batch, world, 0, false};
    for (std::size_t g = 0; g < global_batches(n, first); ++g) {
      std::vector<std::vector<std::uint64_t>> parts;
      for (std::size_t r = 0; r < world; ++r)
        parts.push_back(rank_batch_positions(n, {start, batch, world, r, false}, g));
      for (std::size_t j = 0; j < batch; ++j) {
        for (std::size_t r = 0; r < world; ++r) {
          if (j < parts[r].size()) reassembled.push_back(parts[r][j]);
        }
      }
    }
    std::vector<std::uint64_t> expected(n - start);
    std::iota(expected.begin(), expected.end(), start);
    EXPECT_EQ(reassembled, expected) << world << " ranks";
  }
}

}  // namespace
}  // namespace kiln::data
