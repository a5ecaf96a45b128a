// Capturing and restoring every random number generator a run uses, so a run
// resumed from a checkpoint draws exactly the numbers it would have drawn
// without the interruption (bitwise, on the same hardware and LibTorch).
//
// What is captured:
//   - torch's default CPU generator (torch::randn, dropout, init, shuffles
//     done with torch ops), as its full state: the Mersenne Twister words and
//     the cached normal sample, not only the seed;
//   - the default generator of every CUDA device visible at runtime (none on
//     a CPU-only build or machine); torch::Generator objects a caller created
//     itself are not known to kiln and belong in `named`;
//   - `named`: the caller's own generator states as uint64 values (a data
//     sampler's seed and epoch, a counter-based RNG's counter, ...).
//
// Stored as a tensor part of a checkpoint (rng_state_to_tensors):
//   "torch.cpu"        U8 [n]   the CPU generator's state bytes
//   "torch.cuda.<i>"   U8 [n]   device i's generator state
//   "named.<name>"     I64 []   the uint64 value, bit for bit (values above
//                               2^63 read as negative int64 in Python)
//
//   writer.add_tensors("rng", rng_state_to_tensors(capture_rng_state({{"sampler.epoch", epoch}})));
//   ...
//   RngState rng = rng_state_from_tensors(checkpoint.tensors("rng"));
//   restore_rng_state(rng);
//   epoch = rng.named.at("sampler.epoch");
//
// Thread safety: capture and restore lock each generator's mutex, as torch's
// own get/set_rng_state do; draws racing with a restore on another thread
// see the old or the new state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/train/safetensors.h"

namespace kiln::train {

struct RngState {
  torch::Tensor cpu;                           // uint8 [n]; undefined means "not captured"
  std::vector<torch::Tensor> cuda;             // uint8 [n] per device, in device order
  std::map<std::string, std::uint64_t> named;  // the caller's generator states
};

// The current state of every generator listed above, plus `named`.
RngState capture_rng_state(std::map<std::string, std::uint64_t> named = {});

struct RngRestoreOptions {
  // A checkpoint with CUDA states restored where fewer CUDA devices are
  // visible: false throws kiln::Error (the run would not continue
  // identically); true restores the devices there are and ignores the rest.
  bool allow_missing_cuda = false;
};

// Sets torch's CPU generator (when state.cpu is defined) and the CUDA
// generators to the captured states. `named` is the caller's to apply.
// Throws kiln::Error when a state is not one LibTorch accepts.
void restore_rng_state(const RngState& state, const RngRestoreOptions& options = {});

// The tensor form above; tensors are cloned, so later draws do not change it.
TensorMap rng_state_to_tensors(const RngState& state);

// The inverse; throws kiln::IoError naming `source` and the offending tensor
// for a missing "torch.cpu", a wrong dtype or shape, a gap in the CUDA
// device numbers or a name it does not know.
RngState rng_state_from_tensors(const TensorMap& tensors, const std::string& source = "RNG state");

}  // namespace kiln::train
