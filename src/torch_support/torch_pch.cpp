// The translation unit that owns the precompiled torch header (see
// cmake/KilnTorch.cmake); it has no code of its own.
#include <torch/torch.h>
