#include "kiln/data/token_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kiln/data/error.h"
#include "kiln/data/shuffle.h"
#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::data {

TokenFile::TokenFile(const std::filesystem::path& path, TokenWidth width) : path_(path), width_(width) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw kiln::IoError("cannot open token file '" + path.string() + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw kiln::IoError("cannot stat token file '" + path.string() + "': " + std::strerror(err));
  }
  bytes_ = static_cast<std::uint64_t>(st.st_size);
  const auto w = static_cast<std::uint64_t>(width);
  if (bytes_ % w != 0) {
    ::close(fd);
    throw DataFormatError("token file '" + path.string() + "': " + std::to_string(bytes_) +
                          " bytes is not a whole number of " + std::to_string(w * 8) +
                          "-bit tokens (wrong token width, or a truncated file?)");
  }
  tokens_ = bytes_ / w;
  if (bytes_ > 0) {
    void* map = ::mmap(nullptr, bytes_, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw kiln::IoError("cannot map token file '" + path.string() + "': " + std::strerror(err));
    }
    data_ = static_cast<const unsigned char*>(map);
  }
  ::close(fd);  // the mapping keeps the file
}

TokenFile::~TokenFile() {
  if (data_) ::munmap(const_cast<unsigned char*>(data_), bytes_);
}

std::uint32_t TokenFile::operator[](std::uint64_t i) const {
  const unsigned char* p = data_ + i * static_cast<std::uint64_t>(width_);
  std::uint32_t v = std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8);
  if (width_ == TokenWidth::kUInt32) v |= (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
  return v;
}

std::vector<std::uint32_t> TokenFile::window(std::uint64_t start, std::size_t length) const {
  if (start > tokens_ || length > tokens_ - start)
    throw kiln::Error("token file '" + path_.string() + "': window [" + std::to_string(start) + ", " +
                      std::to_string(start + length) + ") is past its " + std::to_string(tokens_) + " tokens");
  std::vector<std::uint32_t> out(length);
  for (std::size_t i = 0; i < length; ++i) out[i] = (*this)[start + i];
  return out;
}

std::vector<std::uint64_t> random_window_starts(std::uint64_t tokens, std::size_t length, std::size_t count,
                                                std::uint64_t seed) {
  if (length == 0 || tokens < length)
    throw kiln::Error("cannot take windows of " + std::to_string(length) + " tokens from " + std::to_string(tokens) +
                      " tokens");
  SplitMix64 rng(seed);
  std::vector<std::uint64_t> out(count);
  for (auto& s : out) s = rng.below(tokens - length + 1);
  return out;
}

std::vector<std::uint32_t> byte_tokenize(std::string_view text) {
  std::vector<std::uint32_t> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<unsigned char>(text[i]);
  return out;
}

std::string byte_detokenize(const std::vector<std::uint32_t>& tokens) {
  std::string out(tokens.size(), '\0');
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] > 255) throw kiln::Error("byte_detokenize: token " + std::to_string(tokens[i]) + " is not a byte");
    out[i] = static_cast<char>(tokens[i]);
  }
  return out;
}

void write_token_file(const std::filesystem::path& path, const std::vector<std::uint32_t>& tokens, TokenWidth width) {
  const auto w = static_cast<std::size_t>(width);
  std::string bytes(tokens.size() * w, '\0');
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (width == TokenWidth::kUInt16 && tokens[i] > 0xffff)
      throw kiln::Error("write_token_file: token " + std::to_string(tokens[i]) + " at " + std::to_string(i) +
                        " does not fit 16 bits");
    for (std::size_t b = 0; b < w; ++b) bytes[i * w + b] = static_cast<char>((tokens[i] >> (8 * b)) & 0xff);
  }
  Env::Default().write_file_atomic(path, bytes);
}

}  // namespace kiln::data
