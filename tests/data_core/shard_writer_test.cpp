#include "kiln/data/shard_writer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "kiln/data/shard_reader.h"
#include "kiln/data/tar.h"
#include "kiln/track/sha256.h"
#include "shard_fixture.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::read_file;
using kiln::testing::synthetic_sample;
using kiln::testing::TempDir;
using kiln::testing::write_synthetic_shards;

TEST(ShardWriterTest, RoundTripIsByteEqualAcrossSeveralShards) {
  TempDir dir;
  const auto manifest_path = write_synthetic_shards(dir.path(), 200);
  auto shards = ShardSet::open(manifest_path, {.verify_hashes = true});
  ASSERT_EQ(shards->size(), 200u);
  EXPECT_GT(shards->num_shards(), 3u);
  SampleData got;
  for (std::uint64_t i = 0; i < 200; ++i) {
    shards->read(i, got);
    const Sample want = synthetic_sample(i);
    ASSERT_EQ(got.key, want.key);
    ASSERT_EQ(got.fields.size(), want.fields.size());
    for (std::size_t f = 0; f < want.fields.size(); ++f) {
      EXPECT_EQ(got.fields[f].first, want.fields[f].ext);
      EXPECT_EQ(std::string(got.fields[f].second), want.fields[f].data) << want.key << "." << want.fields[f].ext;
    }
  }
}

TEST(ShardWriterTest, ShardsRespectTheSizeLimitAndKeysAreContiguous) {
  TempDir dir;
  const std::uint64_t limit = 16 * 1024;
  const auto manifest = read_shard_manifest(write_synthetic_shards(dir.path(), 200, limit));
  std::uint64_t next = 0;
  for (const ShardInfo& s : manifest.shards) {
    EXPECT_LE(s.bytes, limit) << s.tar;
    EXPECT_EQ(std::filesystem::file_size(dir.path() / s.tar), s.bytes);
    EXPECT_EQ(sha256_file_hex(dir.path() / s.tar), s.sha256);
    EXPECT_EQ(sha256_file_hex(dir.path() / s.index), s.index_sha256);
    const ShardIndex index = decode_shard_index(read_file(dir.path() / s.index), s.index);
    for (const auto& e : index.samples) EXPECT_EQ(e.key, sample_key(next++));
  }
  EXPECT_EQ(next, 200u);
  EXPECT_EQ(manifest.shards.front().tar, "train-000000.tar");
  EXPECT_EQ(manifest.shards.front().index, "train-000000.idx");
  EXPECT_EQ(manifest.fields, (std::vector<std::string>{"cls", "input.npy", "txt"}));
}

TEST(ShardWriterTest, IndexOffsetsPointAtEachMembersTarHeader) {
  TempDir dir;
  const auto manifest = read_shard_manifest(write_synthetic_shards(dir.path(), 50));
  for (const ShardInfo& s : manifest.shards) {
    const std::string tar = read_file(dir.path() / s.tar);
    const ShardIndex index = decode_shard_index(read_file(dir.path() / s.index), s.index);
    std::uint64_t expected_offset = 0;  // samples follow each other with no gap
    for (const auto& e : index.samples) {
      EXPECT_EQ(e.offset, expected_offset);
      std::uint64_t at = e.offset;
      for (const ShardMember& m : e.members) {
        std::string why;
        auto header = parse_tar_header(reinterpret_cast<const unsigned char*>(tar.data() + at), why);
        ASSERT_TRUE(header) << why;
        EXPECT_EQ(header->name, e.key + "." + m.ext);
        EXPECT_EQ(header->size, m.size);
        at += tar_member_bytes(m.size);
      }
      expected_offset = at;
    }
    // Two zero blocks end the archive.
    EXPECT_EQ(expected_offset + 1024, tar.size());
    EXPECT_EQ(tar.substr(expected_offset), std::string(1024, '\0'));
  }
}

TEST(ShardWriterTest, OutputIsByteIdenticalAndLeavesNoTemporaryFiles) {
  TempDir a, b;
  write_synthetic_shards(a.path(), 120);
  write_synthetic_shards(b.path(), 120);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(a.path())) {
    const std::string name = entry.path().filename().string();
    EXPECT_FALSE(name.starts_with(".tmp")) << name;
    EXPECT_EQ(read_file(entry.path()), read_file(b.path() / name)) << name;
    names.push_back(name);
  }
  EXPECT_FALSE(names.empty());
}

TEST(ShardWriterTest, AbandonedWriterRemovesItsTemporaryShardAndWritesNoManifest) {
  TempDir dir;
  {
    ShardWriter writer({.dir = dir.path(), .name = "train"});
    writer.write(synthetic_sample(0));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ShardWriterTest, RejectsKeysThatWebdatasetWouldSplitOrMisorder) {
  TempDir dir;
  ShardWriter writer({.dir = dir.path(), .name = "train"});
  try {
    writer.write({.key = "a.b", .fields = {{"cls", "1"}}});
    FAIL() << "a key with a dot was accepted";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 'a.b': a key must be non-empty and contain no '.'"), std::string::npos)
        << e.what();
  }
  writer.write({.key = "0002", .fields = {{"cls", "1"}}});
  try {
    writer.write({.key = "0001", .fields = {{"cls", "1"}}});
    FAIL() << "a decreasing key was accepted";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("keys must increase"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("the previous key was '0002'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(writer.write({.key = "0003", .fields = {{"cls", "1"}, {"cls", "2"}}}), kiln::Error);
}

}  // namespace
}  // namespace kiln::data
