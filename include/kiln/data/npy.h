// NumPy's .npy format (format versions 1.0, 2.0 and 3.0): one array with its
// dtype and shape, what numpy.save writes and numpy.load reads.
//
//   std::string bytes = encode_npy(NpyDtype::kUInt8, {1, 28, 28}, pixels.data(), pixels.size());
//   NpyView view = parse_npy(bytes, "00001234.input.npy");  // view.data points into bytes
//
// kiln writes version 1.0 with the header padded to a multiple of 64 bytes
// (numpy's own choice), C order, little-endian. It reads the dtypes below in
// little-endian or byte order "|" (one byte); big-endian arrays and Fortran
// order are refused with a message saying so. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::data {

enum class NpyDtype { kBool, kUInt8, kInt8, kInt16, kUInt16, kInt32, kUInt32, kInt64, kFloat32, kFloat64 };

// Bytes per element.
std::size_t npy_item_size(NpyDtype dtype);
// "<f4", "|u1", ...: numpy's descr string.
std::string npy_descr(NpyDtype dtype);

struct NpyView {
  NpyDtype dtype = NpyDtype::kUInt8;
  std::vector<std::int64_t> shape;  // () for a scalar
  std::string_view data;            // the elements, C order, little-endian

  std::int64_t numel() const;
};

// The .npy bytes of an array. `bytes` must be the product of `shape` times
// the item size (throws kiln::Error otherwise).
std::string encode_npy(NpyDtype dtype, const std::vector<std::int64_t>& shape, const void* data, std::size_t bytes);

// Parses .npy bytes; the view points into `bytes`. Throws DataFormatError
// naming `what` (a file or sample member), what was expected and what was
// found: no magic, an unknown version, a header that is not a dict with
// descr, fortran_order and shape, an unsupported dtype, a payload of the
// wrong length.
NpyView parse_npy(std::string_view bytes, const std::string& what);

// parse_npy for a stream of members whose headers repeat (every sample of a
// dataset has the same dtype and shape): a header byte-equal to the last one
// parsed is not parsed again, only the payload's length is checked. The
// same checks and errors as parse_npy. One per thread.
class NpyParser {
 public:
  // The view's data points into `bytes`, valid until the next parse();
  // errors name the member "<key>.<ext>".
  const NpyView& parse(std::string_view bytes, std::string_view key, std::string_view ext);

 private:
  std::string header_;  // magic, version, length and dict of the last parse
  NpyView last_;
};

}  // namespace kiln::data
