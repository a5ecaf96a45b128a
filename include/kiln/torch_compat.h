// The one place LibTorch version differences live.
//
// CPU builds use Debian's LibTorch 1.13; GPU builds use torch 2.x. Code
// elsewhere calls these names and never tests TORCH_VERSION_* itself.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

namespace kiln::compat {

// True on LibTorch >= 2.0.
inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

// "1.13.1", the LibTorch this binary was built against.
inline const char* torch_version() { return TORCH_VERSION; }

}  // namespace kiln::compat
