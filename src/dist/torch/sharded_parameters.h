// ZeRO stage 3's parameters (FSDP's FULL_SHARD): between their uses a rank
// holds only its shard of the flat parameter space; each sharding unit's
// parameters are gathered just before its forward, released after it,
// gathered again when backward reaches the unit and released once all of
// its gradients have come.
//
// The parameters keep their identity, shapes and autograd hooks: each is a
// view of its unit's buffer, whose storage is taken away while the unit is
// released (FSDP frees its flat parameters' storage the same way); the
// memory of the last two units released is kept for the next gathers of
// their size, the rest goes back to the allocator. A released parameter has no memory to read: code that reads
// parameters between steps does so inside summon_full_params (zero.h).
//
// The gathers fill the buffers through tensors that share their storage but
// not their version counter, so the values autograd saved in forward are
// the ones it reads in backward, without an in-place-modification error.
//
// Units are contiguous runs in the flat space whenever their parameters are
// adjacent in module order; a unit spread over several runs is gathered run
// by run. Parameters outside every unit form the root, gathered from the
// first forward of a step until release_all().
//
// Thread safety: one instance per process, used from the training thread
// (autograd runs CPU hooks on the thread that calls backward).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/dist/c10d_compat.h"
#include "kiln/dist/collective_watch.h"
#include "kiln/models/unit_hooks.h"

namespace kiln::dist {

// A trainable parameter and where its elements lie in the flat space.
struct FlatParameter {
  torch::Tensor parameter;
  std::int64_t offset = 0;
};

class ShardedParameters final : public models::UnitHooks {
 public:
  // `shard` is this rank's part of the flat space (shard.numel() elements
  // per rank, rank r's starting at r * shard.numel()); it takes its part of
  // the parameters' values, and the optimizer steps it in place. `units`:
  // the sharding units, in forward order. The parameters are moved into
  // their units' buffers and released.
  ShardedParameters(std::vector<FlatParameter> parameters, torch::Tensor shard,
                    const std::vector<std::shared_ptr<torch::nn::Module>>& units,
                    c10::intrusive_ptr<CollectiveGroup> group, std::shared_ptr<CollectiveWatch> watch);
  ~ShardedParameters() override;
  ShardedParameters(const ShardedParameters&) = delete;
  ShardedParameters& operator=(const ShardedParameters&) = delete;

  void before_forward(torch::nn::Module& unit) override;
  torch::Tensor after_forward(torch::nn::Module& unit, torch::Tensor output) override;

  // Collective: the parameters outside every unit (a no-op while gathered).
  void gather_root();
  // Collective: every parameter, as in one process.
  void gather_all();
  // Local: every unit and the root released; with `writeback`, the values
  // the parameters hold now are first copied into this rank's shard.
  void release_all(bool writeback = false);

  // Units, the root not counted.
  std::size_t unit_count() const { return units_.size() - 1; }
  // Bytes of released units' memory kept for the next gathers.
  std::size_t spare_bytes() const;
  // Bytes handed to the gathers since the last call (Ψ per forward and per
  // backward of every unit, the root once).
  std::size_t take_bytes_gathered();

 private:
  struct Unit;
  void gather(Unit& unit);
  void release(Unit& unit);
  Unit& unit_of(torch::nn::Module& module);

  c10::intrusive_ptr<CollectiveGroup> group_;
  std::shared_ptr<CollectiveWatch> watch_;
  torch::Tensor shard_;
  std::vector<std::unique_ptr<Unit>> units_;  // the root last
  std::map<const torch::nn::Module*, std::size_t> index_;
  std::size_t bytes_gathered_ = 0;
  // The memory of the last two units released, sizes in bytes, for the next
  // gathers of those sizes (FSDP keeps as much through CUDA's caching
  // allocator): layers of one size then cycle through warm pages, each
  // gather taking what the previous release gave back.
  std::vector<std::pair<std::size_t, at::DataPtr>> spare_;
};

}  // namespace kiln::dist
