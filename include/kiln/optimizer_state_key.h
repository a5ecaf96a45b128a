// The key a torch::optim optimizer files a parameter's state under: the
// parameter's TensorImpl address, as text in LibTorch 1.13 (what
// c10::guts::to_string writes), or the address itself where a LibTorch keys
// the map by pointer (the map's key type decides). Code that reads or
// writes optimizer state (ZeRO's sharded state, the fused Adam step) asks
// here rather than spelling the convention out.
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace kiln {

// The key type of torch::optim::Optimizer::state() in this LibTorch.
using OptimizerStateKey = typename std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;

// (A template only so that the branch this LibTorch does not take is not compiled.)
template <class Key = OptimizerStateKey>
Key optimizer_state_key(const torch::Tensor& param) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << param.unsafeGetTensorImpl();
    return key.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

}  // namespace kiln
