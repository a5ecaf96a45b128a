// ShardWriter: writes samples into WebDataset-compatible tar shards with an
// index per shard and a manifest (the layout in shard_format.h).
//
//   ShardWriter writer({.dir = "out", .name = "train", .max_shard_bytes = 256'000'000});
//   writer.write({.key = "00000000", .fields = {{"input.npy", npy}, {"cls", "7"}}});
//   ...
//   ShardManifest manifest = writer.finish();  // out/train.shards.json
//
// Shards: a new shard starts when the next sample would take the current
// one past max_shard_bytes (tar headers, padding and the end-of-archive
// blocks counted); a sample larger than the limit gets a shard of its own.
// Keys must increase strictly (bytewise), so every shard holds a contiguous,
// sorted run of keys, as webdataset's grouping expects.
//
// Atomicity: each shard is written to a temporary name in `dir`, fsynced and
// renamed into place when complete, then its index (write_file_atomic); the
// manifest is written last, so a reader that finds a manifest finds every
// file it names complete. A writer destroyed before finish() removes its
// temporary file; shards already renamed stay, but no manifest names them.
// Output is byte-identical for the same samples and options.
//
// Thread safety: one thread. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kiln/data/shard_format.h"
#include "kiln/track/sha256.h"

namespace kiln {
class WritableFile;
}

namespace kiln::data {

struct ShardWriterOptions {
  // Directory the files go to; created if missing.
  std::filesystem::path dir;
  // File name prefix: <name>-000000.tar; letters, digits, '_', '-'.
  std::string name = "shard";
  // Upper bound of a shard's size in bytes; >= 6144.
  std::uint64_t max_shard_bytes = 256'000'000;
};

struct SampleField {
  std::string ext;   // "input.npy", "cls", "json": the name after "<key>."
  std::string data;  // the member's bytes
};

struct Sample {
  std::string key;  // no '.', no '/', not empty
  std::vector<SampleField> fields;
};

class ShardWriter {
 public:
  // Throws kiln::Error for a bad name or limit, kiln::IoError when `dir`
  // cannot be created.
  explicit ShardWriter(ShardWriterOptions options);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Appends one sample. Throws kiln::Error naming the key for a bad key (or
  // one not after the previous key), an empty, duplicate or bad extension, a
  // member name over 100 bytes; kiln::IoError for write errors.
  void write(const Sample& sample);

  // Closes the last shard and writes the manifest; returns it. Nothing may
  // be written after.
  ShardManifest finish();

  std::uint64_t samples_written() const { return manifest_.samples; }

 private:
  void open_shard();
  void close_shard();
  void append(const std::string& bytes);
  void flush();

  ShardWriterOptions options_;
  ShardManifest manifest_;
  std::string last_key_;
  bool finished_ = false;
  // The shard being written.
  std::unique_ptr<WritableFile> file_;
  std::filesystem::path tmp_path_;
  std::string buffer_;  // bytes not yet appended to file_
  std::uint64_t shard_bytes_ = 0;
  Sha256 hash_;
  ShardIndex index_;
};

}  // namespace kiln::data
