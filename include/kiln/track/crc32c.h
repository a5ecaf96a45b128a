// CRC-32C (Castagnoli), the checksum of TFRecord files, and TFRecord's mask.
//
// The polynomial is 0x1EDC6F41 (reflected 0x82F63B78); "123456789" gives
// 0xE3069283 (RFC 3720's check value). TFRecord stores masked CRCs so that a
// CRC of data that itself contains CRCs stays well distributed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kiln::track {

// CRC-32C of `size` bytes, continuing from `crc` (0 for a new message).
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);
inline std::uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

// TFRecord's masked CRC: rotate right by 15 bits, add 0xa282ead8.
inline std::uint32_t mask_crc(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline std::uint32_t unmask_crc(std::uint32_t masked) {
  std::uint32_t rotated = masked - 0xa282ead8u;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace kiln::track
