// ShardSet: random access to the samples of a shard set (shard_format.h)
// through its manifest and indexes, without scanning a tar.
//
//   auto shards = ShardSet::open("out/train.shards.json");
//   SampleData sample;
//   shards->read(i, sample);                 // i in [0, shards->size())
//   std::string_view npy = sample.field("input.npy");
//
// Samples are numbered 0..size()-1 in manifest order (shard by shard, index
// order within a shard), which is also key order.
//
// Checks: open() reads the manifest and every index (CRC-checked) and
// checks each index's sample count against the manifest; with
// verify_hashes it also hashes every tar against the manifest's SHA-256.
// read() checks every member's tar header (checksum, ustar magic, name
// "<key>.<ext>", size) against the index, and that the shard is long enough,
// so a flipped byte or a truncated file is a ShardCorruptError naming the
// shard, the sample key and the byte offset — never garbage data.
//
// Reads: each shard is memory-mapped at open() (mapped_file.h), so a read
// is a copy out of the page cache rather than a system call; a shard that
// cannot be mapped, or that shrank after open(), is read with pread, which
// reports the truncation. Mapped pages count in the process's RSS as file
// pages the kernel can drop, like any page cache.
//
// Thread safety: read() may be called from any number of threads at once
// (mappings and descriptors made once); the object is immutable after
// open(). Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/data/error.h"
#include "kiln/data/mapped_file.h"
#include "kiln/data/shard_format.h"

namespace kiln::data {

// A sample that cannot be read as its index says. A DataFormatError.
class ShardCorruptError : public DataFormatError {
 public:
  ShardCorruptError(std::string shard, std::string key, std::uint64_t offset, const std::string& why);
  const std::string& shard() const { return shard_; }
  const std::string& key() const { return key_; }
  std::uint64_t offset() const { return offset_; }

 private:
  std::string shard_, key_;
  std::uint64_t offset_;
};

// One sample's bytes; fields point into `buffer`, valid until the next read
// into the same object.
struct SampleData {
  std::string key;
  std::vector<std::pair<std::string, std::string_view>> fields;  // (ext, bytes) in tar order
  std::string buffer;

  // The bytes of field `ext`; throws DataFormatError naming the key and the
  // fields it has when it has none such.
  std::string_view field(std::string_view ext) const;
  bool has(std::string_view ext) const;
};

struct ShardSetOptions {
  // Hash every tar at open() and compare with the manifest (reads every
  // byte once).
  bool verify_hashes = false;
};

class ShardSet {
 public:
  static std::shared_ptr<const ShardSet> open(const std::filesystem::path& manifest, ShardSetOptions options = {});
  ~ShardSet();
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  std::uint64_t size() const { return total_; }
  const ShardManifest& manifest() const { return manifest_; }
  std::size_t num_shards() const { return shards_.size(); }
  // First global sample number of each shard, and size() last.
  const std::vector<std::uint64_t>& shard_starts() const { return starts_; }

  // Shard number and index entry of sample `i` (< size()).
  std::pair<std::size_t, const ShardIndexEntry*> locate(std::uint64_t i) const;
  // Path of shard `s`'s tar.
  const std::filesystem::path& shard_path(std::size_t s) const { return shards_[s].path; }

  // Hints for a reader that knows its next samples (a batch's): start
  // loading sample `i`'s index entry, and (once that is in cache) its members
  // and first bytes, so a few samples' memory misses overlap instead of
  // coming one after another. Only hints: no effect on results; `i` must be
  // < size().
  void prefetch_entry(std::uint64_t i) const;
  void prefetch_sample(std::uint64_t i) const;

  // Reads sample `i` into `out`. Throws ShardCorruptError (see above), and
  // kiln::IoError for a read error.
  void read(std::uint64_t i, SampleData& out) const;

 private:
  struct Shard {
    std::filesystem::path path;
    int fd = -1;
    std::uint64_t file_size = 0;  // at open()
    MappedFile map;               // bytes [0, file_size), when mmap allowed it
    ShardIndex index;
  };
  ShardSet() = default;

  ShardManifest manifest_;
  std::vector<Shard> shards_;
  std::vector<std::uint64_t> starts_;
  std::uint64_t total_ = 0;
};

}  // namespace kiln::data
