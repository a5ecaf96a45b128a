// A damaged shard is an error naming the shard, the sample key and the byte
// offset, found by the real reader on real files.
#include <gtest/gtest.h>

#include <fstream>

#include "kiln/data/pack.h"
#include "kiln/data/shard_reader.h"
#include "shard_fixture.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::flip_byte;
using kiln::testing::TempDir;
using kiln::testing::write_synthetic_shards;

std::string read_error(const ShardSet& shards, std::uint64_t i) {
  SampleData sample;
  try {
    shards.read(i, sample);
  } catch (const ShardCorruptError& e) {
    return e.what();
  }
  return "";
}

TEST(ShardCorruptTest, FlippedHeaderByteNamesShardKeyAndOffset) {
  TempDir dir;
  const auto manifest = write_synthetic_shards(dir.path(), 40);
  auto shards = ShardSet::open(manifest);
  const auto [s, entry] = shards->locate(5);
  // Byte 3 of the name field of sample 5's first member ("00000005.cls").
  flip_byte(shards->shard_path(s), entry->offset + 3);
  const std::string message = read_error(*shards, 5);
  EXPECT_NE(message.find("corrupt shard '" + shards->shard_path(s).string() + "'"), std::string::npos) << message;
  EXPECT_NE(message.find("sample '00000005' at byte offset " + std::to_string(entry->offset)), std::string::npos)
      << message;
  EXPECT_NE(message.find("bad tar header checksum"), std::string::npos) << message;
  EXPECT_EQ(read_error(*shards, 4), "");  // its neighbours are intact
  EXPECT_EQ(read_error(*shards, 6), "");
}

TEST(ShardCorruptTest, TruncatedShardNamesTheFirstSampleCutOff) {
  TempDir dir;
  const auto manifest = write_synthetic_shards(dir.path(), 40, 1 << 20);  // one shard
  auto shards = ShardSet::open(manifest);
  ASSERT_EQ(shards->num_shards(), 1u);
  const auto [s, entry] = shards->locate(30);
  std::filesystem::resize_file(shards->shard_path(0), entry->offset + 700);
  auto reopened = ShardSet::open(manifest);
  EXPECT_EQ(read_error(*reopened, 29), "");
  const std::string message = read_error(*reopened, 30);
  EXPECT_NE(message.find("sample '00000030' at byte offset"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("the file ends at " + std::to_string(entry->offset + 700)), std::string::npos) << message;
  EXPECT_NE(read_error(*reopened, 39).find("sample '00000039'"), std::string::npos);
}

// Shards are read through a memory mapping made at open(); a shard cut short
// afterwards must still be an error naming the sample, not a SIGBUS. The cut
// is on a page boundary: the mapping sees a shrink page by page.
TEST(ShardCorruptTest, AShardTruncatedAfterOpenIsAnErrorNotACrash) {
  TempDir dir;
  const auto manifest = write_synthetic_shards(dir.path(), 40, 1 << 20);  // one shard
  auto shards = ShardSet::open(manifest);
  ASSERT_EQ(shards->num_shards(), 1u);
  const std::uint64_t cut = shards->locate(30).second->offset / 4096 * 4096;
  std::uint64_t first_cut_off = 0;
  while (shards->locate(first_cut_off).second->offset + shards->locate(first_cut_off).second->span() <= cut)
    ++first_cut_off;
  ASSERT_GT(first_cut_off, 0u);
  std::filesystem::resize_file(shards->shard_path(0), cut);
  for (std::uint64_t i = 0; i < shards->size(); ++i) {  // hints never fault, even past the new end
    shards->prefetch_entry(i);
    shards->prefetch_sample(i);
  }
  EXPECT_EQ(read_error(*shards, first_cut_off - 1), "");
  for (const std::uint64_t i : {first_cut_off, std::uint64_t{35}, std::uint64_t{39}}) {
    const std::string message = read_error(*shards, i);
    EXPECT_NE(message.find("sample '" + sample_key(i) + "' at byte offset"), std::string::npos) << message;
    EXPECT_NE(message.find("the file ends at " + std::to_string(cut)), std::string::npos) << message;
  }
}

TEST(ShardCorruptTest, CorruptIndexAndHashMismatchAreCaughtAtOpen) {
  TempDir dir;
  const auto manifest_path = write_synthetic_shards(dir.path(), 40);
  const auto manifest = read_shard_manifest(manifest_path);
  flip_byte(dir.path() / manifest.shards[0].index, 20);
  try {
    ShardSet::open(manifest_path);
    FAIL() << "a corrupt index was accepted";
  } catch (const DataFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("shard index '" + (dir.path() / manifest.shards[0].index).string()),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("CRC-32C mismatch"), std::string::npos) << e.what();
  }
  flip_byte(dir.path() / manifest.shards[0].index, 20);  // repaired
  flip_byte(dir.path() / manifest.shards[1].tar, 2000);  // a data byte: only the hash sees it
  EXPECT_NO_THROW(ShardSet::open(manifest_path));
  try {
    ShardSet::open(manifest_path, {.verify_hashes = true});
    FAIL() << "a changed shard passed verify_hashes";
  } catch (const DataFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the manifest: SHA-256"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::data
