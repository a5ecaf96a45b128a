// One batch of examples, as a BatchLoader yields it.
#pragma once

#include <torch/torch.h>

namespace kiln::data {

// `input` and `target` share their first dimension, the batch size B (the
// last batch of an epoch may be smaller unless the loader drops it). The
// loader gives the caller its own tensors: changing them in place never
// changes the data set or a later batch.
struct Batch {
  torch::Tensor input;   // [B, ...]
  torch::Tensor target;  // [B, ...]
};

}  // namespace kiln::data
