#include "kiln/data/byte_size.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "kiln/error.h"

namespace kiln::data {
namespace {

struct Unit {
  const char* name;  // lower case
  std::uint64_t factor;
};

constexpr std::array<Unit, 11> kUnits{{{"", 1},
                                       {"b", 1},
                                       {"kb", 1000ULL},
                                       {"mb", 1000ULL * 1000},
                                       {"gb", 1000ULL * 1000 * 1000},
                                       {"tb", 1000ULL * 1000 * 1000 * 1000},
                                       {"kib", 1ULL << 10},
                                       {"mib", 1ULL << 20},
                                       {"gib", 1ULL << 30},
                                       {"tib", 1ULL << 40},
                                       {"k", 1000ULL}}};

[[noreturn]] void fail(std::string_view text, std::string_view what, const std::string& why) {
  throw kiln::UsageError(std::string(what) + ": '" + std::string(text) + "' is not a byte size: " + why +
                         " (expected a number and a unit: 4096, 64KiB, 256MB, 1.5GB; units B, kB, MB, GB, TB, KiB, "
                         "MiB, GiB, TiB)");
}

}  // namespace

std::uint64_t parse_byte_size(std::string_view text, std::string_view what) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) fail(text, what, text.empty() ? "it is empty" : "it does not start with a number");
  const std::string number(text.substr(0, i));
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) fail(text, what, "'" + number + "' is not a number");
  std::size_t u = i;
  while (u < text.size() && text[u] == ' ') ++u;
  std::string unit;
  for (char c : text.substr(u)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "b" alone reads as bits in network tools; only "B" means bytes.
  if (unit == "b" && text.back() == 'b') fail(text, what, "'b' is ambiguous (bits?); write B for bytes");
  for (const Unit& known : kUnits) {
    if (unit != known.name) continue;
    const double bytes = value * static_cast<double>(known.factor);
    if (!(bytes >= 1.0)) fail(text, what, "it must be at least 1 byte");
    if (bytes > 9.2e18) fail(text, what, "it is larger than 2^63 bytes");
    if (bytes != std::floor(bytes)) fail(text, what, "it is not a whole number of bytes");
    return static_cast<std::uint64_t>(bytes);
  }
  fail(text, what, "unknown unit '" + std::string(text.substr(u)) + "'");
}

std::string format_byte_size(std::uint64_t bytes) {
  static constexpr std::array<std::pair<std::uint64_t, const char*>, 8> kForms{{{1ULL << 40, "TiB"},
                                                                                {1000ULL * 1000 * 1000 * 1000, "TB"},
                                                                                {1ULL << 30, "GiB"},
                                                                                {1000ULL * 1000 * 1000, "GB"},
                                                                                {1ULL << 20, "MiB"},
                                                                                {1000ULL * 1000, "MB"},
                                                                                {1ULL << 10, "KiB"},
                                                                                {1000ULL, "kB"}}};
  for (const auto& [factor, name] : kForms) {
    if (bytes >= factor && bytes % factor == 0) return std::to_string(bytes / factor) + " " + name;
  }
  return std::to_string(bytes) + " B";
}

}  // namespace kiln::data
