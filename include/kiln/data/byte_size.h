// Byte sizes as users write them: "256MB", "64KiB", "1.5GB", "4096".
//
//   parse_byte_size("256MB")  == 256'000'000     (SI: kB MB GB TB, powers of 1000)
//   parse_byte_size("64KiB")  == 65'536          (IEC: KiB MiB GiB TiB, powers of 1024)
//   parse_byte_size("4096")   == 4096            (plain bytes; "B" may follow)
//
// Units are case-insensitive except that "b" alone is not accepted as bytes
// (it reads as bits in some tools); a space between number and unit is
// allowed. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::data {

// The number of bytes `text` names. Throws kiln::UsageError naming `what`
// (e.g. "--shard-size"), the text and the accepted forms when it is empty, not
// a number, negative, has an unknown unit, or is 0 or larger than 2^63.
std::uint64_t parse_byte_size(std::string_view text, std::string_view what);

// "256 MB", "64 KiB", "12 B": the shortest exact form, for messages.
std::string format_byte_size(std::uint64_t bytes);

}  // namespace kiln::data
