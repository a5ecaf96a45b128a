// UTF-8 validation shared by the YAML loader and the override parser: text
// that is not UTF-8 could not be written back to YAML, so it is refused where
// it enters.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace kiln::config {

// Offset of the first byte that does not start a valid UTF-8 sequence
// (overlong forms, surrogates, code points past U+10FFFF and NUL included),
// or nullopt when all of `text` is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

}  // namespace kiln::config
