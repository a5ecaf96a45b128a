// UTF-8 validation shared by the YAML loader and the override parser: text
// that is not UTF-8 could not be written back to YAML, so it is refused where
// it enters.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::config {

// Offset of the first byte that does not start a valid UTF-8 sequence
// (overlong forms, surrogates, code points past U+10FFFF and NUL included),
// or nullopt when all of `text` is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

// yaml-cpp decodes the double-quoted escapes \N (U+0085) and \_ (U+00A0)
// to the single Latin-1 bytes 0x85 and 0xA0 instead of UTF-8. The loader
// validates its input as UTF-8 first, so a lone 0x85 or 0xA0 byte in a
// decoded scalar can only come from those escapes: this re-encodes them
// (C2 85, C2 A0) and leaves valid UTF-8 untouched.
std::string repair_latin1_escapes(std::string text);

}  // namespace kiln::config
