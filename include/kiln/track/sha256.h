// SHA-256 (FIPS 180-4) of bytes and of files, streaming.
//
// kiln records a SHA-256 for every file it must be able to trust later
// (checkpoint parts, dataset shards), so a flipped bit or a truncated copy is
// detected before its contents are used. The digest is the standard one:
// `sha256sum FILE` and Python's hashlib print the same 64 hex digits.
//
// Thread safety: a Sha256 object is not thread-safe; the free functions are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

class Env;

// Incremental SHA-256: update() any number of times with any chunk sizes,
// then finish(). Feeding "ab" then "c" gives the digest of "abc".
class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256() { reset(); }

  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }

  // Pads, returns the digest of everything fed since construction (or the
  // last finish()), and starts over with an empty message.
  Digest finish();
  // finish() as 64 lowercase hex digits.
  std::string finish_hex();

  // Bytes fed since the last reset.
  std::uint64_t size() const { return length_; }

 private:
  void reset();
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

// 64 lowercase hex digits.
std::string to_hex(const Sha256::Digest& digest);

// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// SHA-256 of a file's contents as 64 lowercase hex digits, read in 1 MiB
// chunks through `env` (memory use does not grow with the file). Throws
// kiln::IoError naming the path and strerror when the file cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path, Env& env);
std::string sha256_file_hex(const std::filesystem::path& path);  // through Env::Default()

}  // namespace kiln
