#include "kiln/data/tar.h"

#include <algorithm>
#include <cstring>

#include "kiln/error.h"

namespace kiln::data {
namespace {

// Field offsets and lengths of the ustar header (POSIX.1-1988).
constexpr std::size_t kName = 0, kNameLen = 100;
constexpr std::size_t kMode = 100, kUid = 108, kGid = 116, kSize = 124, kMtime = 136, kChksum = 148;
constexpr std::size_t kType = 156, kMagic = 257, kVersion = 263;

// `value` as `width - 1` octal digits and a NUL, as tar writes numbers.
void put_octal(std::string& block, std::size_t at, std::size_t width, std::uint64_t value) {
  for (std::size_t i = width - 1; i-- > 0;) {
    block[at + i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  block[at + width - 1] = '\0';
}

std::uint64_t checksum(const unsigned char* block) {
  // Every byte, eight at a time: each word's bytes summed pairwise into
  // four 16-bit lanes (64 words x 2 x 255 < 65536, so no lane overflows).
  // A reader checks two headers per sample; a byte loop was a third of the
  // streaming loader's time on small samples.
  constexpr std::uint64_t kEvenBytes = 0x00FF00FF00FF00FFull;
  std::uint64_t lanes = 0;
  for (std::size_t i = 0; i < kTarBlock; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, block + i, sizeof word);
    lanes += (word & kEvenBytes) + ((word >> 8) & kEvenBytes);
  }
  std::uint64_t sum = (lanes & 0xFFFF) + ((lanes >> 16) & 0xFFFF) + ((lanes >> 32) & 0xFFFF) + (lanes >> 48);
  // The checksum field itself counts as eight spaces.
  for (std::size_t i = kChksum; i < kChksum + 8; ++i) sum = sum - block[i] + ' ';
  return sum;
}

// An octal field, NUL- or space-terminated, leading spaces allowed.
std::optional<std::uint64_t> get_octal(const unsigned char* field, std::size_t width) {
  std::size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  std::uint64_t value = 0;
  std::size_t digits = 0;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) value = value * 8 + (field[i] - '0');
  if (digits == 0) return std::nullopt;
  for (; i < width; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return std::nullopt;
  }
  return value;
}

}  // namespace

std::string tar_header(std::string_view name, std::uint64_t size) {
  if (name.empty() || name.size() > kNameLen)
    throw kiln::Error("tar member name '" + std::string(name) + "' must be 1 to 100 bytes long");
  if (size >= (1ULL << 33)) throw kiln::Error("tar member '" + std::string(name) + "' is 8 GiB or larger");
  std::string block(kTarBlock, '\0');
  std::copy(name.begin(), name.end(), block.begin() + kName);
  put_octal(block, kMode, 8, 0644);
  put_octal(block, kUid, 8, 0);
  put_octal(block, kGid, 8, 0);
  put_octal(block, kSize, 12, size);
  put_octal(block, kMtime, 12, 0);
  block[kType] = '0';
  std::memcpy(block.data() + kMagic, "ustar", 6);  // with its NUL
  std::memcpy(block.data() + kVersion, "00", 2);
  const std::uint64_t sum = checksum(reinterpret_cast<const unsigned char*>(block.data()));
  // Six octal digits, NUL, space: what GNU tar and Python's tarfile write.
  put_octal(block, kChksum, 7, sum);
  block[kChksum + 7] = ' ';
  return block;
}

std::optional<TarHeader> parse_tar_header(const unsigned char* block, std::string& why) {
  if (std::all_of(block, block + kTarBlock, [](unsigned char c) { return c == 0; })) {
    why = "end-of-archive block";
    return std::nullopt;
  }
  const auto stored = get_octal(block + kChksum, 8);
  const std::uint64_t actual = checksum(block);
  if (!stored || *stored != actual) {
    why = "bad tar header checksum (stored " + (stored ? std::to_string(*stored) : std::string("unreadable")) +
          ", computed " + std::to_string(actual) + ")";
    return std::nullopt;
  }
  if (std::memcmp(block + kMagic, "ustar", 5) != 0) {
    why = "not a ustar header (no 'ustar' magic)";
    return std::nullopt;
  }
  const auto size = get_octal(block + kSize, 12);
  if (!size) {
    why = "tar header size field is not an octal number";
    return std::nullopt;
  }
  TarHeader header;
  const auto* name = reinterpret_cast<const char*>(block + kName);
  header.name = std::string_view(name, strnlen(name, kNameLen));
  header.size = *size;
  header.type = block[kType] == '\0' ? '0' : static_cast<char>(block[kType]);
  return header;
}

}  // namespace kiln::data
