// SLURM's compressed host lists: "gpu[01-03,07],login-1" names gpu01, gpu02,
// gpu03, gpu07 and login-1. Ranges keep their zero padding.
#include <cctype>
#include <string>
#include <vector>

#include "kiln/dist/world.h"
#include "kiln/error.h"

namespace kiln::dist {
namespace {

[[noreturn]] void malformed(std::string_view list, std::size_t at, const std::string& expected) {
  throw UsageError("SLURM node list '" + std::string(list) + "' at character " + std::to_string(at + 1) +
                   ": expected " + expected);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// "01-03,07" (inside the brackets) appended to `prefix`.
void expand_ranges(std::string_view list, std::size_t offset, std::string_view ranges, const std::string& prefix,
                   std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start <= ranges.size()) {
    std::size_t comma = ranges.find(',', start);
    std::string_view item =
        ranges.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t dash = item.find('-');
    std::string_view low = item.substr(0, dash);
    std::string_view high = dash == std::string_view::npos ? low : item.substr(dash + 1);
    if (!all_digits(low) || !all_digits(high) || low.size() > 9 || high.size() > 9)
      malformed(list, offset + start, "a number or a range like 01-04 inside [...]");
    long from = std::stol(std::string(low)), to = std::stol(std::string(high));
    if (to < from) malformed(list, offset + start, "a range whose end is not below its start");
    for (long n = from; n <= to; ++n) {
      std::string digits = std::to_string(n);
      if (digits.size() < low.size()) digits.insert(0, low.size() - digits.size(), '0');
      out.push_back(prefix + digits);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

}  // namespace

std::vector<std::string> expand_slurm_nodelist(std::string_view list) {
  std::vector<std::string> hosts;
  std::size_t i = 0;
  while (i < list.size()) {
    std::size_t name_start = i;
    while (i < list.size() && list[i] != ',' && list[i] != '[') ++i;
    std::string prefix(list.substr(name_start, i - name_start));
    if (prefix.empty() && (i >= list.size() || list[i] != '[')) malformed(list, i, "a host name");
    if (i < list.size() && list[i] == '[') {
      std::size_t close = list.find(']', i);
      if (close == std::string_view::npos) malformed(list, i, "a ']' closing this '['");
      const std::size_t first_of_range = hosts.size();
      expand_ranges(list, i + 1, list.substr(i + 1, close - i - 1), prefix, hosts);
      i = close + 1;
      // A suffix after the brackets ("n[1-2]-ib") applies to each host of the range.
      std::size_t suffix_start = i;
      while (i < list.size() && list[i] != ',') ++i;
      if (i > suffix_start) {
        std::string suffix(list.substr(suffix_start, i - suffix_start));
        if (suffix.find('[') != std::string::npos) malformed(list, suffix_start, "one bracket group per host name");
        for (std::size_t h = first_of_range; h < hosts.size(); ++h) hosts[h] += suffix;
      }
    } else {
      hosts.push_back(prefix);
    }
    if (i < list.size()) {
      if (list[i] != ',') malformed(list, i, "',' between hosts");
      ++i;
      if (i == list.size()) malformed(list, i, "a host after ','");
    }
  }
  if (hosts.empty()) malformed(list, 0, "at least one host");
  return hosts;
}

}  // namespace kiln::dist
