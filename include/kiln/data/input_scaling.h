// InputScaling: a model input as float32, computed as (x / scale - mean) /
// std element by element: torchvision's ToTensor + Normalize, as the
// Fashion-MNIST and shards data modules apply it.
//
//   InputScaling s = InputScaling::of(255.0, /*normalize=*/true, 0.2860, 0.3530);
//   torch::Tensor x = scale_to_float(batch.input, s);
//
// Bitwise what to(kFloat32).div_(scale).sub_(mean).div_(std) gives (each
// value rounded to float first, then the float ops in that order), in one
// single-threaded pass. Loaders run it on their own threads, where each of
// those tensor ops would start an OpenMP team beside the training's.
#pragma once

#include <torch/torch.h>

#include <cstddef>

namespace kiln::data {

struct InputScaling {
  double scale = 1.0;  // > 0
  double mean = 0.0;
  double std = 1.0;  // > 0

  // x / scale, and with `normalize` then (. - mean) / std: the data
  // modules' scale / normalize / mean / std keys.
  static InputScaling of(double scale, bool normalize, double mean, double std) {
    return {.scale = scale, .mean = normalize ? mean : 0.0, .std = normalize ? std : 1.0};
  }
};

// Converts `n` elements of `dtype` (bool, integers up to 64 bits, float32,
// float64) at `source` into `out`. Throws DataFormatError for another dtype.
void scale_to_float(const void* source, torch::ScalarType dtype, std::size_t n, const InputScaling& s, float* out);

// `x` as a new contiguous float32 tensor (on the CPU), scaled.
torch::Tensor scale_to_float(const torch::Tensor& x, const InputScaling& s);

}  // namespace kiln::data
