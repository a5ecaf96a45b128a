// The built-in models, each with its options struct. Registered as `mlp`,
// `cnn` and `resnet` by register_builtin_models().
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/models/network.h"

namespace kiln::models {

// Flatten, then Linear + ReLU + Dropout per hidden width, then a Linear head.
struct MlpOptions {
  std::int64_t in_features = 784;
  std::int64_t num_classes = 10;
  std::vector<std::int64_t> hidden{256, 128};
  double dropout = 0.1;
};

// Per width: Conv3x3 (same padding) + ReLU + MaxPool2; then Linear(hidden)
// + ReLU + Dropout and a Linear head. For 28x28 (or 32x32) inputs.
struct CnnOptions {
  std::int64_t in_channels = 1;
  std::int64_t num_classes = 10;
  std::int64_t image_size = 28;
  std::vector<std::int64_t> channels{32, 64};
  std::int64_t hidden = 128;
  double dropout = 0.1;
};

// A small pre-activation-free ResNet: Conv3x3 stem, stages of BasicBlocks
// (two Conv3x3 + BatchNorm, identity or 1x1 projection shortcut), stride 2
// between stages, global average pooling and a Linear head.
struct ResNetOptions {
  std::int64_t in_channels = 1;
  std::int64_t num_classes = 10;
  std::vector<std::int64_t> widths{16, 32, 64};
  std::int64_t blocks_per_stage = 2;
};

std::shared_ptr<Network> make_mlp(const MlpOptions& options);
std::shared_ptr<Network> make_cnn(const CnnOptions& options);
std::shared_ptr<Network> make_resnet(const ResNetOptions& options);

}  // namespace kiln::models
