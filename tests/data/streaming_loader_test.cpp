// The streaming loader over real shard files: order, ranks, resume, errors.
// Synthetic sample i has target i, so a batch's targets are its sample ids.
#include "kiln/data/streaming_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <tuple>

#include "data_core/shard_fixture.h"
#include "kiln/cores.h"
#include "kiln/data/batch_buffer_pool.h"
#include "kiln/data/fashion_mnist.h"
#include "kiln/data/pack.h"
#include "kiln/data/shards_datamodule.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::flip_byte;
using kiln::testing::TempDir;

constexpr std::uint64_t kSamples = 301;

class StreamingLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { shards_ = ShardSet::open(kiln::testing::write_synthetic_shards(dir_.path(), kSamples)); }

  StreamingLoaderOptions options(std::size_t batch, std::size_t workers = 2, std::size_t rank = 0,
                                 std::size_t world = 1) const {
    return {.shards = shards_,
            .batch_size = batch,
            .seed = 11,
            .shuffle_buffer = 40,
            .num_workers = workers,
            .rank = rank,
            .world_size = world};
  }

  // The targets (sample ids) of each batch from start_batch on.
  static std::vector<std::vector<std::int64_t>> batches(StreamingLoader& loader, std::int64_t epoch,
                                                        std::size_t start = 0, std::size_t limit = SIZE_MAX) {
    std::vector<std::vector<std::int64_t>> out;
    loader.start_epoch(epoch, start);
    while (out.size() < limit) {
      auto batch = loader.next();
      if (!batch) break;
      EXPECT_EQ(batch->input.size(0), batch->target.size(0));
      const auto t = batch->target.contiguous();
      out.emplace_back(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel());
      // input.npy of sample i is i, i+1, i+2, i+3.
      EXPECT_EQ(batch->input[0][3].item<float>(), static_cast<float>(out.back()[0] + 3));
    }
    return out;
  }

  static std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& b) {
    std::vector<std::int64_t> out;
    for (const auto& x : b) out.insert(out.end(), x.begin(), x.end());
    return out;
  }

  TempDir dir_;
  std::shared_ptr<const ShardSet> shards_;
};

TEST_F(StreamingLoaderTest, OrderDependsOnSeedAndEpochNotOnWorkers) {
  StreamingLoader w0(options(8, 0)), w1(options(8, 1)), w3(options(8, 3));
  const auto a = batches(w0, 2);
  EXPECT_EQ(a, batches(w1, 2));
  EXPECT_EQ(a, batches(w3, 2));
  EXPECT_EQ(a, batches(w3, 2));  // again, same loader
  EXPECT_NE(a, batches(w3, 3));
  EXPECT_EQ(a.size(), w0.size());
  std::vector<std::int64_t> all = flat(a);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<std::int64_t>(i));
  EXPECT_EQ(all.size(), kSamples);
}

TEST_F(StreamingLoaderTest, RanksAreDisjointAndCompleteFor2To4) {
  for (std::size_t world : {2u, 3u, 4u}) {
    std::set<std::int64_t> seen;
    std::size_t count = 0;
    for (std::size_t r = 0; r < world; ++r) {
      StreamingLoader loader(options(5, 2, r, world));
      for (auto id : flat(batches(loader, 1))) {
        seen.insert(id);
        ++count;
      }
    }
    EXPECT_EQ(count, kSamples) << world << " ranks";
    EXPECT_EQ(seen.size(), kSamples) << world << " ranks";
  }
}

TEST_F(StreamingLoaderTest, ResumeMidEpochSeesExactlyTheRestOfTheEpoch) {
  StreamingLoader full(options(7));
  const auto all = batches(full, 4);
  StreamingLoader resumed(options(7, 3));
  const auto rest = batches(resumed, 4, 10);
  EXPECT_EQ(rest, std::vector<std::vector<std::int64_t>>(all.begin() + 10, all.end()));
}

// The global order: one rank, batch size 1.
std::vector<std::int64_t> global_order(StreamingLoader& single, std::int64_t epoch) {
  std::vector<std::int64_t> out;
  single.start_epoch(epoch);
  while (auto b = single.next()) out.push_back(b->target.item<std::int64_t>());
  return out;
}

TEST_F(StreamingLoaderTest, ResumeOnAnotherRankCountKeepsTheGlobalOrder) {
  StreamingLoader single(options(1));
  const std::vector<std::int64_t> order = global_order(single, 5);
  // Saved by 2 ranks of batch 4 after 9 batches each.
  StreamingLoader saver(options(4, 2, 0, 2));
  batches(saver, 5, 0, 9);
  const std::uint64_t consumed = saver.samples_consumed(9);
  EXPECT_EQ(consumed, 9u * 4 * 2);
  // Resumed by 3 ranks of batch 3: rank r takes global position
  // consumed + g*9 + j*3 + r; reassembled, that is order[consumed...].
  std::vector<std::vector<std::vector<std::int64_t>>> parts;
  for (std::size_t r = 0; r < 3; ++r) {
    StreamingLoader loader(options(3, 2, r, 3));
    const std::size_t k = loader.resume_at(5, consumed);
    parts.push_back(batches(loader, 5, k));
  }
  std::vector<std::int64_t> reassembled;
  for (std::size_t g = 0; g < parts[0].size(); ++g) {
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t r = 0; r < 3; ++r) {
        if (g < parts[r].size() && j < parts[r][g].size()) reassembled.push_back(parts[r][g][j]);
      }
    }
  }
  EXPECT_EQ(reassembled, std::vector<std::int64_t>(order.begin() + static_cast<std::ptrdiff_t>(consumed), order.end()));
}

TEST_F(StreamingLoaderTest, SameGlobalBatchResumesThroughStartBatchAlone) {
  // 2 ranks x 4 saved at batch 6 -> 1 rank x 8 resumed at batch 6 (the
  // trainer's (epoch, next_batch) checkpoint): the same global samples.
  std::vector<std::int64_t> rest_two;
  for (std::size_t r = 0; r < 2; ++r) {
    StreamingLoader loader(options(4, 1, r, 2));
    for (auto id : flat(batches(loader, 0, 6))) rest_two.push_back(id);
  }
  StreamingLoader one(options(8));
  std::vector<std::int64_t> rest_one = flat(batches(one, 0, 6));
  std::sort(rest_two.begin(), rest_two.end());
  std::sort(rest_one.begin(), rest_one.end());
  EXPECT_EQ(rest_one, rest_two);
}

TEST_F(StreamingLoaderTest, CorruptSampleRaisesNamingItOrIsSkippedAndCounted) {
  const auto [s, entry] = shards_->locate(42);
  flip_byte(shards_->shard_path(s), entry->offset + 10);
  StreamingLoader raising(options(16, 2));
  try {
    batches(raising, 0);
    FAIL() << "a corrupt sample went unnoticed";
  } catch (const ShardCorruptError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(shards_->shard_path(s).string()), std::string::npos) << m;
    EXPECT_NE(m.find("sample '00000042' at byte offset " + std::to_string(entry->offset)), std::string::npos) << m;
  }
  EXPECT_THROW(raising.next(), ShardCorruptError);  // a failed epoch never looks finished

  auto o = options(16, 2);
  o.on_error = OnError::kSkip;
  StreamingLoader skipping(o);
  const auto ids = flat(batches(skipping, 0));
  EXPECT_EQ(ids.size(), kSamples - 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 42), 0);
  EXPECT_EQ(skipping.skipped_samples(), 1u);
}

// A batch's memory goes back to the loader's pool once the batch is gone,
// and the next batch of that size lands in it (no fresh pages per batch).
TEST_F(StreamingLoaderTest, BatchMemoryIsReusedOnceABatchIsDropped) {
  StreamingLoader loader(options(8, 0));
  loader.start_epoch(0);
  const void* first = nullptr;
  std::set<const void*> seen;
  for (int b = 0; b < 6; ++b) {
    auto batch = loader.next();
    ASSERT_TRUE(batch);
    if (!first) first = batch->input.data_ptr();
    seen.insert(batch->input.data_ptr());
  }  // each batch dropped before the next is made
  EXPECT_EQ(seen.size(), 1u) << "every batch after the first reuses the first one's buffer";
  // A batch the caller keeps is not handed out again.
  auto kept = loader.next();
  auto next = loader.next();
  ASSERT_TRUE(kept && next);
  EXPECT_NE(kept->input.data_ptr(), next->input.data_ptr());
  EXPECT_EQ(kept->input.data_ptr(), first);
}

// input_scaling converts while stacking; it must give bitwise what the same
// ops on the stacked batch give (the IDX path and older configs use those).
TEST_F(StreamingLoaderTest, InputScalingEqualsTheTensorOpsBitForBit) {
  const InputScaling scaling{.scale = 255.0, .mean = 0.2860, .std = 0.3530};
  auto o = options(16, 2);
  o.input_scaling = scaling;
  StreamingLoader scaled(o);
  StreamingLoader plain(options(16, 0));
  scaled.start_epoch(1);
  plain.start_epoch(1);
  std::size_t n = 0;
  while (auto x = scaled.next()) {
    auto y = plain.next();
    ASSERT_TRUE(y);
    const torch::Tensor expected =
        y->input.to(torch::kFloat32).div_(scaling.scale).sub_(scaling.mean).div_(scaling.std);
    ASSERT_EQ(x->input.scalar_type(), torch::kFloat32);
    ASSERT_TRUE(torch::equal(x->input, expected)) << "batch " << n;
    ASSERT_TRUE(torch::equal(x->target, y->target));
    ++n;
  }
  EXPECT_EQ(n, plain.size());
  o.input_scaling = InputScaling{.scale = 0.0};
  EXPECT_THROW(StreamingLoader bad(o), kiln::Error);
}

// Integer and double inputs convert as to(kFloat32) does: rounded to float
// first, then scaled.
TEST(StreamingLoaderInputScaling, IntegerAndDoubleInputsConvertAsToFloat32Does) {
  TempDir dir;
  const std::int16_t ints[3] = {-32768, 7, 32767};
  const double doubles[3] = {0.1, -1e300, 16777217.0};
  for (const auto& [name, dtype, data, bytes] :
       {std::tuple{"i16", NpyDtype::kInt16, static_cast<const void*>(ints), sizeof ints},
        std::tuple{"f64", NpyDtype::kFloat64, static_cast<const void*>(doubles), sizeof doubles}}) {
    ShardWriter writer({.dir = dir.path(), .name = name});
    for (int i = 0; i < 3; ++i)
      writer.write({.key = sample_key(i),
                    .fields = {{"cls", std::to_string(i)}, {"input.npy", encode_npy(dtype, {3}, data, bytes)}}});
    writer.finish();
    StreamingLoaderOptions o{.shards = ShardSet::open(dir.path() / manifest_file_name(name)),
                             .batch_size = 3,
                             .shuffle = false,
                             .num_workers = 0};
    StreamingLoader plain(o);
    o.input_scaling = InputScaling{.scale = 3.0, .mean = -0.5, .std = 7.0};
    StreamingLoader scaled(o);
    const torch::Tensor x = scaled.next()->input;
    const torch::Tensor expected = plain.next()->input.to(torch::kFloat32).div_(3.0).sub_(-0.5).div_(7.0);
    EXPECT_TRUE(torch::equal(x, expected)) << name << ": " << x << " vs " << expected;
  }
}

// num_workers: null gives the loader the cores the intra-op threads leave
// free, at most 2 (no CUDA here).
TEST(ShardsDataModuleTest, AutoNumWorkersIsTheCoresIntraOpThreadsLeaveFree) {
  TempDir dir;
  kiln::testing::write_synthetic_shards(dir.path(), 20);
  ShardsOptions so;
  so.root = dir.path().string();
  so.val = std::nullopt;
  so.test = std::nullopt;
  ASSERT_FALSE(so.num_workers.has_value());
  ShardsDataModule shards(so);
  const int threads_before = at::get_num_threads();
  const int cores = kiln::available_cores();
  auto workers = [&] { return dynamic_cast<StreamingLoader&>(*shards.train_loader()).options().num_workers; };
  at::set_num_threads(cores);
  EXPECT_EQ(auto_num_workers(), 0u);
  EXPECT_EQ(workers(), 0u);
  at::set_num_threads(1);
  EXPECT_EQ(auto_num_workers(), static_cast<std::size_t>(std::min(cores - 1, 2)));
  EXPECT_EQ(workers(), auto_num_workers());
  // Two ranks on this node share its cores, as the Trainer shares them.
  ::setenv("LOCAL_WORLD_SIZE", "2", 1);
  EXPECT_EQ(auto_num_workers(), static_cast<std::size_t>(std::clamp(cores / 2 - 1, 0, 2)));
  ::unsetenv("LOCAL_WORLD_SIZE");
  at::set_num_threads(threads_before);
  so.num_workers = 3;
  EXPECT_EQ(dynamic_cast<StreamingLoader&>(*ShardsDataModule(so).train_loader()).options().num_workers, 3u);
}

TEST(BatchBufferPool, KeepsAtMostItsLimitAndOutlivesNothing) {
  auto pool = BatchBufferPool::create(2);
  std::vector<torch::Tensor> held;
  for (int i = 0; i < 4; ++i) held.push_back(pool->empty({16, 3}, torch::kFloat32));
  held.clear();
  EXPECT_EQ(pool->free_buffers(), 2u) << "two kept, two freed";
  torch::Tensor survivor = pool->empty({5}, torch::kInt64);
  survivor.fill_(7);
  pool.reset();  // the tensor keeps the pool alive until it goes
  EXPECT_EQ(survivor.sum().item<std::int64_t>(), 35);
}

TEST(ShardsDataModuleTest, FashionMnistShardsGiveTheIdxPathsInputs) {
  const std::filesystem::path root = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(root / "t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "needs dataset-fashion-mnist";
  TempDir dir;
  pack_fashion_mnist({.root = root, .out = dir.path(), .shard_bytes = 4'000'000, .splits = {"val", "test"}});
  ShardsOptions so;
  so.root = dir.path().string();
  so.train = "val";  // a small set to open; train is not compared
  ShardsDataModule shards(so);
  FashionMnistOptions fo;
  fo.root = root.string();
  fo.num_workers = 0;
  FashionMnistDataModule idx(fo);
  auto a = shards.test_loader();
  auto b = idx.test_loader();
  ASSERT_EQ(a->size(), b->size());
  a->start_epoch(0);
  b->start_epoch(0);
  while (auto x = a->next()) {
    auto y = b->next();
    ASSERT_TRUE(y);
    ASSERT_TRUE(torch::equal(x->input, y->input));
    ASSERT_TRUE(torch::equal(x->target, y->target));
  }
  auto va = shards.val_loader();
  auto vb = idx.val_loader();
  va->start_epoch(0);
  vb->start_epoch(0);
  auto x = va->next();
  auto y = vb->next();
  EXPECT_TRUE(torch::equal(x->input, y->input));
  EXPECT_TRUE(torch::equal(x->target, y->target));
}

}  // namespace
}  // namespace kiln::data
