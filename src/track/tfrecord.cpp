#include "kiln/track/tfrecord.h"

#include <cstring>

#include "kiln/error.h"
#include "kiln/track/crc32c.h"

namespace kiln::track {
namespace {

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return value;
}

}  // namespace

std::string frame_tfrecord(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, mask_crc(crc32c(out.data(), 8)), 4);
  out.append(data);
  put_le(out, mask_crc(crc32c(data)), 4);
  return out;
}

std::vector<std::string> read_tfrecords(std::string_view contents, const std::string& name) {
  std::vector<std::string> records;
  std::size_t at = 0;
  while (at < contents.size()) {
    auto fail = [&](const std::string& what) {
      throw IoError(name + ": record " + std::to_string(records.size()) + " at offset " + std::to_string(at) + ": " +
                    what);
    };
    if (contents.size() - at < 12) fail("truncated header (" + std::to_string(contents.size() - at) + " bytes)");
    std::uint64_t length = get_le(contents, at, 8);
    if (unmask_crc(static_cast<std::uint32_t>(get_le(contents, at + 8, 4))) != crc32c(contents.data() + at, 8))
      fail("length CRC mismatch");
    if (contents.size() - at - 12 < length + 4)
      fail("truncated: needs " + std::to_string(length) + " data bytes and a CRC, file has " +
           std::to_string(contents.size() - at - 12));
    std::string_view data = contents.substr(at + 12, length);
    if (unmask_crc(static_cast<std::uint32_t>(get_le(contents, at + 12 + length, 4))) != crc32c(data))
      fail("data CRC mismatch");
    records.emplace_back(data);
    at += 12 + length + 4;
  }
  return records;
}

}  // namespace kiln::track
