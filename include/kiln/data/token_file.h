// Raw token files for language models: a flat array of uint16 or uint32
// token ids (little-endian, no header; what nanoGPT's prepare scripts and
// `np.array(ids, dtype=np.uint16).tofile(path)` write), memory-mapped, and
// seeded random fixed-length windows over them; plus the byte-level
// tokenizer that turns any text into such ids (token = byte value, 0..255).
//
//   TokenFile tokens("train.bin", TokenWidth::kUInt16);
//   auto starts = random_window_starts(tokens.size(), 129, 64, epoch_seed(seed, step));
//   std::vector<std::uint32_t> w = tokens.window(starts[0], 129);
//
// The mapping is read-only and shared; a file truncated while mapped makes
// reads past its new end fault (SIGBUS), so token files must not change while
// in use. Thread safety: a TokenFile is immutable after construction.
// Torch-free. SentencePiece models: kiln/data/tokenizer.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::data {

enum class TokenWidth { kUInt16 = 2, kUInt32 = 4 };

class TokenFile {
 public:
  // Maps `path`. Throws kiln::IoError naming the path and strerror when it
  // cannot be opened or mapped, DataFormatError when its size is not a
  // multiple of the token width.
  TokenFile(const std::filesystem::path& path, TokenWidth width);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  std::uint64_t size() const { return tokens_; }
  std::uint32_t operator[](std::uint64_t i) const;
  // Tokens [start, start + length); throws kiln::Error when past the end.
  std::vector<std::uint32_t> window(std::uint64_t start, std::size_t length) const;

 private:
  std::filesystem::path path_;
  TokenWidth width_;
  const unsigned char* data_ = nullptr;
  std::uint64_t bytes_ = 0, tokens_ = 0;
};

// `count` window starts uniform in [0, tokens - length] from SplitMix64(seed)
// (shuffle.h): the same seed gives the same windows everywhere. Throws
// kiln::Error when the file is shorter than one window.
std::vector<std::uint64_t> random_window_starts(std::uint64_t tokens, std::size_t length, std::size_t count,
                                                std::uint64_t seed);

// Byte-level tokenizer: every byte of `text` is one token (its value).
std::vector<std::uint32_t> byte_tokenize(std::string_view text);
std::string byte_detokenize(const std::vector<std::uint32_t>& tokens);

// Writes `tokens` as a raw token file (atomically). Throws kiln::Error for a
// token that does not fit `width`.
void write_token_file(const std::filesystem::path& path, const std::vector<std::uint32_t>& tokens, TokenWidth width);

}  // namespace kiln::data
