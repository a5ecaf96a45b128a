// Tests for kiln's shuffling (shuffle.h), TensorBatchLoader and
// PrefetchLoader: order, determinism, exact resume, prefetch shutdown and
// error propagation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "kiln/data/prefetch_loader.h"
#include "kiln/data/shuffle.h"
#include "kiln/data/tensor_batch_loader.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

// Examples 0..n-1: input row i is [i, -i], target i is i.
TensorBatchLoader make_loader(std::int64_t n, TensorBatchLoaderOptions o) {
  torch::Tensor targets = torch::arange(n, torch::kLong);
  torch::Tensor inputs = torch::stack({targets, -targets}, 1).to(torch::kFloat32);
  return TensorBatchLoader(inputs, targets, std::move(o));
}

std::vector<std::int64_t> ids(const Batch& b) {
  torch::Tensor t = b.target.contiguous();
  return std::vector<std::int64_t>(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel());
}

// The target ids of every remaining batch of the epoch, one vector per batch.
std::vector<std::vector<std::int64_t>> drain(BatchLoader& loader) {
  std::vector<std::vector<std::int64_t>> out;
  while (auto b = loader.next()) {
    EXPECT_TRUE(b->input.select(1, 0).to(torch::kLong).equal(b->target)) << "input and target rows travel together";
    out.push_back(ids(*b));
  }
  return out;
}

std::vector<std::vector<std::int64_t>> epoch(BatchLoader& loader, std::int64_t e, std::size_t start = 0) {
  loader.start_epoch(e, start);
  return drain(loader);
}

// --- shuffle.h: the algorithm is fixed, so its outputs are pinned. ---

TEST(Shuffle, SplitMix64MatchesTheReferenceImplementation) {
  // Vigna's splitmix64.c seeded with 1234567.
  SplitMix64 rng(1234567);
  EXPECT_EQ(rng.next(), 6457827717110365317ULL);
  EXPECT_EQ(rng.next(), 3203168211198807973ULL);
  EXPECT_EQ(rng.next(), 9817491932198370423ULL);
}

TEST(Shuffle, PermutationsArePinned) {
  // From an independent Python implementation of the algorithm in shuffle.h;
  // a change here changes every run's data order.
  EXPECT_EQ(mix64(0), 16294208416658607535ULL);
  EXPECT_EQ(epoch_seed(42, 0), 6332618229526065668ULL);
  EXPECT_EQ(random_permutation(10, epoch_seed(42, 0)), (std::vector<std::int64_t>{5, 1, 9, 6, 7, 2, 4, 0, 8, 3}));
  EXPECT_EQ(random_permutation(10, epoch_seed(42, 1)), (std::vector<std::int64_t>{8, 9, 1, 7, 6, 4, 3, 2, 0, 5}));
}

TEST(Shuffle, BelowStaysInRangeAndPermutationsHoldEveryIndexOnce) {
  SplitMix64 rng(7);
  for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 1000ULL, (1ULL << 63) + 5}) {
    for (int i = 0; i < 100; ++i) EXPECT_LT(rng.below(n), n);
  }
  std::vector<std::int64_t> p = random_permutation(1000, 3);
  std::sort(p.begin(), p.end());
  std::vector<std::int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(p, expected);
  EXPECT_TRUE(random_permutation(0, 1).empty());
}

// --- TensorBatchLoader ---

TEST(TensorBatchLoader, WithoutShuffleYieldsExamplesInOrderWithASmallerLastBatch) {
  TensorBatchLoader loader = make_loader(10, {.batch_size = 4});
  EXPECT_EQ(loader.size(), 3u);
  EXPECT_EQ(loader.num_samples(), 10u);
  EXPECT_EQ(epoch(loader, 0), (std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
  EXPECT_EQ(epoch(loader, 5), epoch(loader, 0)) << "no shuffle: every epoch is the same";
}

TEST(TensorBatchLoader, DropLastDropsOnlyASmallerLastBatch) {
  TensorBatchLoader loader = make_loader(10, {.batch_size = 4, .shuffle = true, .drop_last = true});
  EXPECT_EQ(loader.size(), 2u);
  auto batches = epoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].size(), 4u);
  EXPECT_EQ(batches[1].size(), 4u);
  EXPECT_EQ(make_loader(12, {.batch_size = 4, .drop_last = true}).size(), 3u) << "nothing to drop";
  EXPECT_EQ(make_loader(3, {.batch_size = 4, .drop_last = true}).size(), 0u);
}

TEST(TensorBatchLoader, ShuffledEpochIsTheSeededPermutation) {
  TensorBatchLoader loader = make_loader(10, {.batch_size = 3, .shuffle = true, .seed = 42});
  std::vector<std::int64_t> flat;
  for (const auto& b : epoch(loader, 1)) flat.insert(flat.end(), b.begin(), b.end());
  EXPECT_EQ(flat, random_permutation(10, epoch_seed(42, 1)));
}

// Data parallel: replica r of N gets slice r of each global batch of N * B,
// so the replicas' batch k together are one loader's batch k with batch N * B;
// an incomplete last global batch is dropped.
TEST(TensorBatchLoader, ReplicasSplitEachGlobalBatchDisjointly) {
  TensorBatchLoader whole = make_loader(100, {.batch_size = 12, .shuffle = true, .seed = 5});
  const auto global = epoch(whole, 2);
  for (std::size_t replicas : {2u, 3u}) {
    std::vector<std::vector<std::vector<std::int64_t>>> per_rank;
    for (std::size_t rank = 0; rank < replicas; ++rank) {
      TensorBatchLoader part = make_loader(
          100, {.batch_size = 12 / replicas, .shuffle = true, .seed = 5, .num_replicas = replicas, .rank = rank});
      EXPECT_EQ(part.size(), 100u / 12u) << "the last, incomplete global batch is dropped";
      per_rank.push_back(epoch(part, 2));
    }
    for (std::size_t k = 0; k < 100 / 12; ++k) {
      std::vector<std::int64_t> joined;
      for (const auto& batches : per_rank) {
        ASSERT_EQ(batches[k].size(), 12u / replicas);
        joined.insert(joined.end(), batches[k].begin(), batches[k].end());
      }
      EXPECT_EQ(joined, global[k]) << replicas << " replicas, batch " << k;
    }
  }
  EXPECT_THROW(make_loader(10, {.batch_size = 2, .num_replicas = 2, .rank = 2}), Error);
}

TEST(TensorBatchLoader, SameSeedAndEpochGiveTheSameOrderAcrossLoaders) {
  TensorBatchLoaderOptions o{.batch_size = 16, .shuffle = true, .seed = 9};
  TensorBatchLoader a = make_loader(1000, o);
  TensorBatchLoader b = make_loader(1000, o);
  EXPECT_EQ(epoch(a, 3), epoch(b, 3));
  EXPECT_EQ(epoch(a, 3), epoch(a, 3)) << "repeating an epoch repeats its order";
}

TEST(TensorBatchLoader, DifferentEpochOrSeedGivesADifferentOrder) {
  TensorBatchLoader a = make_loader(1000, {.batch_size = 16, .shuffle = true, .seed = 9});
  TensorBatchLoader b = make_loader(1000, {.batch_size = 16, .shuffle = true, .seed = 10});
  EXPECT_NE(epoch(a, 0), epoch(a, 1));
  EXPECT_NE(epoch(a, 0), epoch(b, 0));
}

TEST(TensorBatchLoader, OrderAndContentDoNotDependOnPrefetch) {
  auto transform = [](Batch b) { return Batch{b.input * 2 + 1, b.target}; };
  std::vector<std::vector<torch::Tensor>> runs;
  for (std::size_t prefetch : {0, 1, 3}) {
    TensorBatchLoader loader =
        make_loader(203, {.batch_size = 8, .shuffle = true, .seed = 5, .prefetch = prefetch, .transform = transform});
    std::vector<torch::Tensor> inputs;
    for (std::int64_t e : {0, 1}) {
      loader.start_epoch(e);
      while (auto b = loader.next()) inputs.push_back(b->input);
    }
    runs.push_back(inputs);
  }
  for (std::size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), runs[0].size());
    for (std::size_t i = 0; i < runs[0].size(); ++i) EXPECT_TRUE(runs[r][i].equal(runs[0][i])) << "batch " << i;
  }
}

TEST(TensorBatchLoader, ResumeYieldsExactlyTheRemainingBatchesOfTheEpoch) {
  for (std::size_t prefetch : {0, 2}) {
    TensorBatchLoader loader = make_loader(50, {.batch_size = 7, .shuffle = true, .seed = 1, .prefetch = prefetch});
    const auto full = epoch(loader, 4);
    ASSERT_EQ(full.size(), 8u);
    for (std::size_t k = 0; k <= full.size(); ++k) {
      // A fresh loader, as after a restart from a checkpoint...
      TensorBatchLoader resumed = make_loader(50, {.batch_size = 7, .shuffle = true, .seed = 1, .prefetch = prefetch});
      EXPECT_EQ(epoch(resumed, 4, k), std::vector(full.begin() + static_cast<std::ptrdiff_t>(k), full.end()))
          << "k=" << k << " prefetch=" << prefetch;
    }
    // ... and the same loader abandoning an epoch half way.
    loader.start_epoch(4);
    loader.next();
    EXPECT_EQ(epoch(loader, 4, 3), std::vector(full.begin() + 3, full.end()));
  }
}

TEST(TensorBatchLoader, NextBeforeStartEpochStartsEpochZeroAndTheEndRepeats) {
  TensorBatchLoader loader = make_loader(5, {.batch_size = 2, .shuffle = true, .seed = 3, .prefetch = 1});
  auto first = drain(loader);
  EXPECT_EQ(first, epoch(loader, 0));
  EXPECT_FALSE(loader.next().has_value());
  EXPECT_FALSE(loader.next().has_value());
}

TEST(TensorBatchLoader, RejectsABadEpochOrStartBatchAndThenYieldsNothing) {
  for (std::size_t prefetch : {0, 2}) {
    TensorBatchLoader loader = make_loader(10, {.batch_size = 4, .prefetch = prefetch});
    try {
      loader.start_epoch(0, 4);
      FAIL() << "expected kiln::Error";
    } catch (const kiln::Error& e) {
      EXPECT_STREQ(e.what(), "start_epoch: start_batch 4 is past the end of the epoch (3 batches)");
    }
    EXPECT_FALSE(loader.next().has_value());
    try {
      loader.start_epoch(-1);
      FAIL() << "expected kiln::Error";
    } catch (const kiln::Error& e) {
      EXPECT_STREQ(e.what(), "start_epoch: epoch must be >= 0, found -1");
    }
    EXPECT_FALSE(loader.next().has_value());
    loader.start_epoch(0, 3);  // == size(): a finished epoch
    EXPECT_FALSE(loader.next().has_value());
  }
}

TEST(TensorBatchLoader, ConstructorNamesTheProblem) {
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const kiln::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] {
              TensorBatchLoader(torch::zeros({3, 2}), torch::zeros({4}));
            }),
            "TensorBatchLoader: inputs and targets must hold the same number of examples, found 3 inputs and 4 "
            "targets");
  EXPECT_EQ(message([] { TensorBatchLoader(torch::zeros({3}), torch::zeros({3}), {.batch_size = 0}); }),
            "TensorBatchLoader: batch_size must be >= 1, found 0");
  EXPECT_EQ(message([] { TensorBatchLoader(torch::zeros({}), torch::zeros({3})); }),
            "TensorBatchLoader: inputs and targets need a first (example) dimension, found shapes [] and [3]");
  EXPECT_EQ(message([] { TensorBatchLoader(torch::Tensor(), torch::zeros({3})); }),
            "TensorBatchLoader: inputs and targets must be defined tensors");
}

TEST(TensorBatchLoader, BatchesAreCopiesTheCallerMayChange) {
  torch::Tensor inputs = torch::arange(6, torch::kFloat32).reshape({3, 2});
  const torch::Tensor before = inputs.clone();
  TensorBatchLoader loader(inputs, torch::arange(3), {.batch_size = 3});
  loader.next()->input.fill_(-1);
  EXPECT_TRUE(inputs.equal(before));
}

TEST(TensorBatchLoader, TransformErrorIsThrownByNextUntilTheNextEpoch) {
  for (std::size_t prefetch : {0, 2}) {
    auto fail = std::make_shared<std::atomic<bool>>(true);
    TensorBatchLoader loader = make_loader(20, {.batch_size = 5, .prefetch = prefetch, .transform = [fail](Batch b) {
                                                  if (*fail && b.target[0].item<std::int64_t>() == 10) {
                                                    throw std::runtime_error("bad pixel in batch 2");
                                                  }
                                                  return b;
                                                }});
    loader.start_epoch(0);
    EXPECT_TRUE(loader.next().has_value());
    EXPECT_TRUE(loader.next().has_value());
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        loader.next();
        FAIL() << "expected the transform's error, prefetch=" << prefetch;
      } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "bad pixel in batch 2");
      }
    }
    *fail = false;
    EXPECT_EQ(epoch(loader, 0).size(), 4u) << "start_epoch clears the error";
  }
}

TEST(TensorBatchLoader, DestroyedMidEpochWithPrefetchReturnsPromptly) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) {
    TensorBatchLoader loader = make_loader(10000, {.batch_size = 10, .shuffle = true, .prefetch = 4});
    loader.start_epoch(i);
    if (i % 2) loader.next();  // half of them with the consumer mid-epoch, half never having taken a batch
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// --- PrefetchLoader around a loader of our own ---

// Yields `n` batches per epoch, each holding a tensor whose deleter counts it
// down, so a test can tell that no batch outlives the loaders.
class CountingLoader final : public BatchLoader {
 public:
  CountingLoader(std::size_t n, std::shared_ptr<std::atomic<int>> live) : n_(n), live_(std::move(live)) {}
  std::size_t size() const override { return n_; }
  std::size_t num_samples() const override { return n_; }
  void start_epoch(std::int64_t, std::size_t start_batch) override { next_ = start_batch; }
  std::optional<Batch> next() override {
    if (next_ >= n_) return std::nullopt;
    if (next_ == throw_at) throw kiln::IoError("shard 3 is unreadable");
    auto* value = new std::int64_t(static_cast<std::int64_t>(next_++));
    ++*live_;
    auto live = live_;
    torch::Tensor t = torch::from_blob(
        value, {1}, [value, live](void*) { delete value, --*live; }, torch::kLong);
    return Batch{t, t};
  }
  std::size_t throw_at = static_cast<std::size_t>(-1);

 private:
  std::size_t n_;
  std::size_t next_ = 0;
  std::shared_ptr<std::atomic<int>> live_;
};

TEST(PrefetchLoader, StopsItsWorkerAndFreesEveryBatchWhenDestroyedMidEpoch) {
  auto live = std::make_shared<std::atomic<int>>(0);
  {
    PrefetchLoader loader(std::make_unique<CountingLoader>(1000, live), 3);
    loader.start_epoch(0);
    auto held = loader.next();
    ASSERT_TRUE(held.has_value());
    EXPECT_EQ(held->target.item<std::int64_t>(), 0);
    // Let the worker fill the queue and block on it.
    for (int i = 0; i < 200 && *live < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(*live, 4) << "the held batch and depth 3 made ahead, no more";
  }
  EXPECT_EQ(*live, 0);
}

TEST(PrefetchLoader, RestartingDropsTheBatchesMadeAhead) {
  auto live = std::make_shared<std::atomic<int>>(0);
  PrefetchLoader loader(std::make_unique<CountingLoader>(100, live), 2);
  loader.start_epoch(0);
  loader.next();
  loader.start_epoch(0, 50);
  EXPECT_EQ(loader.next()->target.item<std::int64_t>(), 50);
}

TEST(PrefetchLoader, RethrowsTheWorkersExceptionWithItsType) {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto inner = std::make_unique<CountingLoader>(10, live);
  inner->throw_at = 3;
  PrefetchLoader loader(std::move(inner), 2);
  loader.start_epoch(0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(loader.next()->target.item<std::int64_t>(), i);
  EXPECT_THROW(
      {
        try {
          loader.next();
        } catch (const kiln::IoError& e) {
          EXPECT_STREQ(e.what(), "shard 3 is unreadable");
          throw;
        }
      },
      kiln::IoError);
  EXPECT_THROW(loader.next(), kiln::IoError) << "again, until start_epoch";
}

TEST(PrefetchLoader, RejectsANullLoaderAndDepthZero) {
  EXPECT_THROW(PrefetchLoader(nullptr, 1), kiln::Error);
  auto live = std::make_shared<std::atomic<int>>(0);
  EXPECT_THROW(PrefetchLoader(std::make_unique<CountingLoader>(1, live), 0), kiln::Error);
}

}  // namespace
}  // namespace kiln::data
