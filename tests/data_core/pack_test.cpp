// kiln data pack's Fashion-MNIST source on Debian's real files: every sample
// of every split byte-equal to the IDX data it came from.
#include "kiln/data/pack.h"

#include <gtest/gtest.h>

#include <cstring>

#include "kiln/data/fashion_mnist_split.h"
#include "kiln/data/idx_file.h"
#include "kiln/data/npy.h"
#include "kiln/data/shard_reader.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

const std::filesystem::path kRoot = "/usr/share/datasets/fashion-mnist";

void expect_split_matches(const ShardSet& shards, const IdxArray& images, const IdxArray& labels,
                          const std::vector<std::int64_t>& which) {
  ASSERT_EQ(shards.size(), which.size());
  SampleData sample;
  for (std::size_t i = 0; i < which.size(); ++i) {
    shards.read(i, sample);
    ASSERT_EQ(sample.key, sample_key(i));
    const auto image = static_cast<std::size_t>(which[i]);
    ASSERT_EQ(std::string(sample.field("cls")), std::to_string(labels.data[image])) << sample.key;
    const NpyView npy = parse_npy(sample.field("input.npy"), sample.key);
    ASSERT_EQ(npy.shape, (std::vector<std::int64_t>{1, 28, 28}));
    ASSERT_EQ(npy.dtype, NpyDtype::kUInt8);
    ASSERT_EQ(std::memcmp(npy.data.data(), images.data.data() + image * 784, 784), 0) << sample.key;
  }
}

TEST(ShardPackTest, FashionMnistSplitsRoundTripByteEqual) {
  if (!std::filesystem::exists(kRoot / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "needs Debian's dataset-fashion-mnist";
  kiln::testing::TempDir dir;
  const auto manifests = pack_fashion_mnist({.root = kRoot, .out = dir.path(), .shard_bytes = 8'000'000});
  ASSERT_EQ(manifests.size(), 3u);
  EXPECT_EQ(manifests[0].samples, 54000u);
  EXPECT_EQ(manifests[1].samples, 6000u);
  EXPECT_EQ(manifests[2].samples, 10000u);
  EXPECT_GT(manifests[0].shards.size(), 5u);  // 8 MB shards: ~1.1 KiB a sample

  const IdxArray train_images = read_idx_file(kRoot / "train-images-idx3-ubyte.gz");
  const IdxArray train_labels = read_idx_file(kRoot / "train-labels-idx1-ubyte.gz");
  const TrainValSplit split = split_train_val(60000, 0.1, 42);
  expect_split_matches(*ShardSet::open(dir.path() / "train.shards.json", {.verify_hashes = true}), train_images,
                       train_labels, split.train);
  expect_split_matches(*ShardSet::open(dir.path() / "val.shards.json"), train_images, train_labels, split.val);
  std::vector<std::int64_t> all(10000);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  expect_split_matches(*ShardSet::open(dir.path() / "test.shards.json"),
                       read_idx_file(kRoot / "t10k-images-idx3-ubyte.gz"),
                       read_idx_file(kRoot / "t10k-labels-idx1-ubyte.gz"), all);
}

TEST(ShardPackTest, MissingSourceFileIsAnIoErrorNamingIt) {
  kiln::testing::TempDir dir;
  try {
    pack_fashion_mnist({.root = dir.path(), .out = dir.path() / "out", .splits = {"test"}});
    FAIL() << "packing a missing source succeeded";
  } catch (const kiln::IoError& e) {
    EXPECT_NE(std::string(e.what()).find((dir.path() / "t10k-images-idx3-ubyte.gz").string()), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln::data
