#include "utf8.h"

namespace kiln::config {

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  for (std::size_t i = 0; i < text.size();) {
    unsigned char byte = at(i);
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xE  ? 3
                         : (byte >> 3) == 0x1E ? 4
                                               : 0;
    bool valid = length != 0 && byte != 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (at(i + k) >> 6) == 0x2;
    if (valid && length == 2) valid = byte >= 0xC2;  // overlong
    if (valid && length == 3) valid = !(byte == 0xE0 && at(i + 1) < 0xA0) && !(byte == 0xED && at(i + 1) >= 0xA0);
    if (valid && length == 4)
      valid = byte <= 0xF4 && !(byte == 0xF0 && at(i + 1) < 0x90) && !(byte == 0xF4 && at(i + 1) >= 0x90);
    if (!valid) return i;
    i += length;
  }
  return std::nullopt;
}

std::string repair_latin1_escapes(std::string text) {
  std::optional<std::size_t> bad = first_invalid_utf8(text);
  if (!bad) return text;
  std::string out = text.substr(0, *bad);
  std::size_t i = *bad;
  while (i < text.size()) {
    std::optional<std::size_t> next = first_invalid_utf8(std::string_view(text).substr(i));
    if (!next) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, *next);
    i += *next;
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0x85 || byte == 0xA0) out += '\xC2';
    out += text[i];
    ++i;
  }
  return out;
}

}  // namespace kiln::config
