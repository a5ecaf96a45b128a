// The c10d process group of a distributed job: rank 0 serves a TCPStore at
// MASTER_ADDR:MASTER_PORT, every rank joins it, and Gloo (CPU) runs the
// collectives over it. LibTorch's own engine, not a home-made transport.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "kiln/dist/c10d_compat.h"
#include "kiln/dist/collective_watch.h"
#include "kiln/dist/world.h"

namespace kiln::dist {

struct ProcessGroupOptions {
  // How long a rank waits for the others at the rendezvous and in each
  // collective before failing with an error instead of hanging.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // "gloo" (CPU, and CUDA tensors through host copies) or "nccl" (CUDA).
  std::string backend = "gloo";
};

// Whether this build has c10d's NCCL backend (LibTorch with CUDA).
bool nccl_available();

struct DistributedContext {
  World world;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<CollectiveGroup> group;
  // Waits for collectives and names the ranks that did not reach a failed one.
  std::shared_ptr<CollectiveWatch> watch;
};

// Joins the job `world` describes; a world of one rank is a group of one
// (an explicit strategy on one process, as Lightning's). Throws kiln::Error
// naming this rank, the master address and what went wrong when the
// rendezvous fails or times out, or the backend is unknown or not built.
DistributedContext init_process_group(const World& world, const ProcessGroupOptions& options = {});

}  // namespace kiln::dist
