// The files of a kiln shard set, besides the tar shards themselves:
//
//   <name>-000000.tar    WebDataset-compatible POSIX tar (tar.h): a sample is
//                        the consecutive members sharing one key,
//                        "00001234.input.npy", "00001234.cls"; keys increase
//                        bytewise through a shard and across shards
//   <name>-000000.idx    its index (below): where each sample starts, its
//                        members and their sizes, so a sample is read with one
//                        pread and no scan
//   <name>.shards.json   the manifest: every shard with its sample count,
//                        byte size and SHA-256 (of the tar and of the index)
//
// Index file, version 1, all integers little-endian:
//   "KILNSIDX"  u32 version = 1  u32 flags = 0  u64 sample count
//   per sample: u64 offset of its first tar header in the shard,
//               u16 key length, key bytes, u16 member count,
//               per member: u16 extension length, extension bytes, u64 data size
//   u32 CRC-32C of all bytes before it
// A member's header is at the sample's offset plus the tar_member_bytes() of
// the members before it; its data follows the 512-byte header.
//
// Manifest (JSON, see docs/shards.md):
//   {"format": "kiln-shards", "version": 1, "name": "train", "samples": 54000,
//    "fields": ["cls", "input.npy"],
//    "shards": [{"tar": "train-000000.tar", "index": "train-000000.idx",
//                "samples": 54000, "bytes": 72253440, "sha256": "...",
//                "index_sha256": "..."}]}
//
// Torch-free. Readers of newer versions fail with a message naming the file
// and both versions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/data/error.h"

namespace kiln::data {

inline constexpr std::uint32_t kShardIndexVersion = 1;
inline constexpr std::uint32_t kShardManifestVersion = 1;

// A member of a sample: "input.npy" of "00001234.input.npy", and its size.
struct ShardMember {
  std::string ext;
  std::uint64_t size = 0;
};

struct ShardIndexEntry {
  std::string key;
  std::uint64_t offset = 0;  // byte offset of the sample's first tar header
  std::vector<ShardMember> members;

  // Bytes of the shard the sample spans (headers, data and padding).
  std::uint64_t span() const;
};

struct ShardIndex {
  std::vector<ShardIndexEntry> samples;
};

std::string encode_shard_index(const ShardIndex& index);
// Throws DataFormatError naming `path` (for messages only) and the byte
// offset for a bad magic, a newer version, a record cut short, trailing
// bytes or a CRC mismatch.
ShardIndex decode_shard_index(std::string_view bytes, const std::string& path);

struct ShardInfo {
  std::string tar;    // file name, relative to the manifest's directory
  std::string index;  // file name, relative to the manifest's directory
  std::uint64_t samples = 0;
  std::uint64_t bytes = 0;  // size of the tar file
  std::string sha256;       // of the tar file, 64 lowercase hex digits
  std::string index_sha256;
};

struct ShardManifest {
  std::string name;  // the shards' file name prefix: "train"
  std::uint64_t samples = 0;
  std::vector<std::string> fields;  // every member extension seen, sorted
  std::vector<ShardInfo> shards;
};

// "<name>.shards.json".
std::string manifest_file_name(std::string_view name);

std::string encode_shard_manifest(const ShardManifest& manifest);
// Reads and checks a manifest (JSON shape, version, sample counts adding
// up). Throws kiln::IoError when it cannot be read, DataFormatError naming
// the path and the key otherwise.
ShardManifest read_shard_manifest(const std::filesystem::path& path);

}  // namespace kiln::data
