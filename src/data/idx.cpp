#include "kiln/data/idx.h"

#include <cstring>

#include "kiln/data/idx_file.h"

namespace kiln::data {
namespace {

torch::ScalarType dtype_of(std::uint8_t code) {
  switch (code) {
    case 0x08: return torch::kUInt8;
    case 0x09: return torch::kInt8;
    case 0x0B: return torch::kInt16;
    case 0x0C: return torch::kInt32;
    case 0x0D: return torch::kFloat32;
    default: return torch::kFloat64;  // 0x0E: read_idx_file accepts no other code
  }
}

}  // namespace

torch::Tensor load_idx(const std::string& path) {
  const IdxArray array = read_idx_file(path);
  torch::Tensor out = torch::empty(array.dims, torch::TensorOptions().dtype(dtype_of(array.type_code)));
  if (!array.data.empty()) std::memcpy(out.data_ptr(), array.data.data(), array.data.size());
  return out;
}

}  // namespace kiln::data
