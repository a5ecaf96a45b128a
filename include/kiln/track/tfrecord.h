// TFRecord framing: the container of TensorBoard event files.
//
// Each record is
//   uint64 length (little endian) | uint32 masked_crc32c(length bytes) |
//   data[length]                  | uint32 masked_crc32c(data)
// The reader checks both CRCs and refuses a truncated record with an error
// naming the file and offset, so a test (or a user) can trust what it reads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::track {

// One framed record, ready to append to a file.
std::string frame_tfrecord(std::string_view data);

// Every record of a TFRecord file's contents, in order. Throws
// kiln::IoError ("<name>: record 3 at offset 120: data CRC mismatch ...").
std::vector<std::string> read_tfrecords(std::string_view contents, const std::string& name);

}  // namespace kiln::track
