#include "kiln/data/input_scaling.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "kiln/data/error.h"

namespace kiln::data {
namespace {

// One element at a time in the order of ATen's ops on a float tensor, so
// the result is bitwise theirs.
template <typename T>
void scale(const char* bytes, std::size_t n, const InputScaling& s, float* out) {
  const float scale = static_cast<float>(s.scale), mean = static_cast<float>(s.mean),
              stddev = static_cast<float>(s.std);
  for (std::size_t i = 0; i < n; ++i) {
    T x;
    std::memcpy(&x, bytes + i * sizeof(T), sizeof(T));
    out[i] = (static_cast<float>(x) / scale - mean) / stddev;
  }
}

}  // namespace

void scale_to_float(const void* source, torch::ScalarType dtype, std::size_t n, const InputScaling& s, float* out) {
  const auto* bytes = static_cast<const char*>(source);
  switch (dtype) {
    case torch::kBool: return scale<std::uint8_t>(bytes, n, s, out);  // stored as 0 or 1
    case torch::kUInt8: return scale<std::uint8_t>(bytes, n, s, out);
    case torch::kInt8: return scale<std::int8_t>(bytes, n, s, out);
    case torch::kInt16: return scale<std::int16_t>(bytes, n, s, out);
    case torch::kInt32: return scale<std::int32_t>(bytes, n, s, out);
    case torch::kInt64: return scale<std::int64_t>(bytes, n, s, out);
    case torch::kFloat32: return scale<float>(bytes, n, s, out);
    case torch::kFloat64: return scale<double>(bytes, n, s, out);
    default: break;
  }
  throw DataFormatError(std::string("cannot scale ") + c10::toString(dtype) + " to float32");
}

torch::Tensor scale_to_float(const torch::Tensor& x, const InputScaling& s) {
  const torch::Tensor source = x.contiguous();
  torch::Tensor out = torch::empty(source.sizes(), torch::TensorOptions().dtype(torch::kFloat32));
  scale_to_float(source.data_ptr(), source.scalar_type(), static_cast<std::size_t>(source.numel()), s,
                 out.data_ptr<float>());
  return out;
}

}  // namespace kiln::data
