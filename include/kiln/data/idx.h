// The IDX format of (Fashion-)MNIST, read into a tensor.
//
// An IDX file is a 4-byte magic number 0x00 0x00 TT NN, where TT is the
// element type and NN the number of dimensions, then NN big-endian uint32
// sizes, then the elements in row-major order (multi-byte ones big-endian).
// Files may be gzip-compressed (.gz) or raw; both are read the same way.
//
//   TT    element         tensor dtype
//   0x08  unsigned byte   torch::kUInt8
//   0x09  signed byte     torch::kInt8
//   0x0B  int16           torch::kInt16
//   0x0C  int32           torch::kInt32
//   0x0D  float32         torch::kFloat32
//   0x0E  float64         torch::kFloat64
#pragma once

#include <torch/torch.h>

#include <string>

namespace kiln::data {

// Reads the IDX file at `path` (gzip or raw) into a new CPU tensor of the
// declared shape and dtype (table above). The payload must be exactly as
// long as the header declares.
// Throws kiln::IoError naming the path and strerror when the file cannot be
// opened or read, and kiln::data::DataFormatError naming the path, what was
// expected and what was found for a bad magic number, an unknown type code,
// no dimensions, a header or payload cut short, bytes after the payload, or
// a corrupt gzip stream.
torch::Tensor load_idx(const std::string& path);

}  // namespace kiln::data
