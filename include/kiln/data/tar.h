// POSIX ustar tar members: the container of kiln's shards (shard_writer.h),
// read by GNU tar, Python's tarfile and the webdataset package.
//
// A member is a 512-byte header block, then its data padded with zeros to a
// multiple of 512 bytes; an archive ends with two zero blocks. kiln writes
// regular files only, with fixed metadata (mode 0644, uid/gid 0, mtime 0,
// no user or group names) so the same samples give byte-identical shards.
// Names are at most 100 bytes (the ustar name field; kiln's keys are short,
// so the prefix field is never needed). Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::data {

inline constexpr std::size_t kTarBlock = 512;

// Bytes a member with `size` bytes of data takes: header plus padded data.
constexpr std::uint64_t tar_member_bytes(std::uint64_t size) {
  return kTarBlock + (size + kTarBlock - 1) / kTarBlock * kTarBlock;
}

// The 512-byte ustar header of a regular file `name` (1..100 bytes) with
// `size` bytes of data (< 8 GiB, the 11 octal digits of the size field).
// Throws kiln::Error for a name or size out of range.
std::string tar_header(std::string_view name, std::uint64_t size);

// The parts of a header a reader checks. `name` points into the block.
struct TarHeader {
  std::string_view name;
  std::uint64_t size = 0;
  char type = '0';
};

// Parses a 512-byte block as a ustar header. nullopt and `why` set when it
// is not one: a bad checksum, no "ustar" magic, a size field that is not
// octal. An all-zero block (the end of an archive) is also nullopt, with
// `why` "end-of-archive block".
std::optional<TarHeader> parse_tar_header(const unsigned char* block, std::string& why);

}  // namespace kiln::data
