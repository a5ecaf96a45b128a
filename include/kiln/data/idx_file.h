// The IDX format of (Fashion-)MNIST (layout in idx.h), read without torch:
// the element type, the dimensions and the elements in host byte order.
// load_idx (idx.h) turns this into a tensor; `kiln data pack` reads it
// directly. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

struct IdxArray {
  std::uint8_t type_code = 0x08;    // 0x08 unsigned byte ... 0x0E float64 (idx.h)
  std::size_t item_size = 1;        // bytes per element
  std::vector<std::int64_t> dims;   // at least one
  std::vector<unsigned char> data;  // row-major, host byte order
};

// Reads the IDX file at `path` (gzip or raw), with the checks and errors
// load_idx documents.
IdxArray read_idx_file(const std::string& path);

}  // namespace kiln::data
