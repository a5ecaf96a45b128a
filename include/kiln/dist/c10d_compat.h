// The object kiln issues collectives on, across LibTorch versions.
//
// In LibTorch 1.13 ProcessGroupGloo (and NCCL's) is a c10d::ProcessGroup
// with the collectives as virtual methods. From 2.0 on they are
// c10d::Backend, with the same methods; ProcessGroup became a dispatcher
// front end that needs its backends registered per device. kiln calls the
// backend directly, as the 2.x ProcessGroup itself does for CUDA tensors, so
// the same code builds against Debian's 1.13 and the GPU machine's 2.x.
#pragma once

#include <torch/version.h>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#endif

namespace kiln::dist {

#if TORCH_VERSION_MAJOR >= 2
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

}  // namespace kiln::dist
