// ZeRO stages 1, 2 and 3 (Rajbhandari et al., "ZeRO: Memory Optimizations
// Toward Training Trillion Parameter Models", 2020) over c10d.
//
// The trainable parameters are moved into one flat buffer of Ψ elements
// (GradientSync's layout, padded to world * shard elements) and rank r owns
// the r-th contiguous shard of it. Each step:
//   1. backward: each gradient bucket is reduced to the ranks whose shard
//      it covers as soon as it is complete (a reduce-scatter, Ψ on the wire);
//   2. the rank's optimizer, built over its shard alone, steps the shard in
//      place in the flat buffer: optimizer state exists for Ψ/N elements;
//   3. the updated shards are all-gathered into every rank's flat buffer
//      (Ψ on the wire), so every rank again holds the whole model.
// Stage 1 keeps every parameter's local gradient until the step (as
// DeepSpeed's stage 1 keeps full gradients); stage 2 frees each bucket's
// gradients once they are reduced, so a rank keeps only its gradient shard.
// Gradient buckets live only while their reduction is in flight.
// Stage 3 (FSDP's FULL_SHARD) keeps only the shard of the parameters too:
// the rank's optimizer steps a shard of its own, and each sharding unit
// (models::Network::sharding_units) is all-gathered just before its forward
// and again before its backward, and released after each (Ψ twice on the
// wire; with the reduce-scatter 3Ψ per step, the paper's 1.5x of DDP).
// Per rank, in fp32 training with Adam (4 bytes of weights, 4 of gradient
// and 8 of moments per element), model states take 16Ψ bytes without ZeRO,
// 8Ψ + 12Ψ/N with stage 1, 4Ψ + 12Ψ/N with stage 2 and 16Ψ/N with stage 3
// (between steps; a step adds the units being used): the sharded 12 bytes
// are the reduced gradient and the two moments, where the paper's
// mixed-precision accounting (2 + 2 + 12: 4 + 12/N, 2 + 14/N and 16/N)
// shards an fp32 master copy and the moments.
//
// The optimizer math is elementwise (SGD, Adam, AdamW), so a shard steps
// exactly as its elements would in one process: N ranks with batch B match
// one process with batch N * B up to the order of the gradient sums.
//
// Thread safety: one ZeroOptimizer per process, used from the training thread.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kiln/dist/c10d_compat.h"
#include "kiln/dist/ddp.h"
#include "kiln/models/unit_hooks.h"

namespace kiln::dist {

struct ZeroOptions {
  int stage = 1;                             // 1, 2 or 3
  std::size_t bucket_cap_bytes = 25u << 20;  // gradient buckets, as DDP's
  // Stage 3: the modules whose forward runs between the hooks of
  // unit_hooks() (models::Network::sharding_units), in forward order.
  // Parameters outside them are gathered from the step's first
  // gather_root_parameters() to its end.
  std::vector<std::shared_ptr<torch::nn::Module>> units;
};

class ShardedParameters;

// While alive, every parameter of a stage-3 model holds its value, as in one
// process (FSDP's summon_full_params); with writeback, the values it holds
// at the end become the shards'. Collective to create, local to destroy.
// Empty (and harmless) for stages 1 and 2.
class FullParameters {
 public:
  FullParameters() = default;
  FullParameters(ShardedParameters* sharded, bool writeback);
  ~FullParameters();
  FullParameters(FullParameters&& other) noexcept;
  FullParameters& operator=(FullParameters&&) = delete;
  FullParameters(const FullParameters&) = delete;
  FullParameters& operator=(const FullParameters&) = delete;
  // The parameters stay gathered when this ends (the end of sharding).
  void keep() { sharded_ = nullptr; }

 private:
  ShardedParameters* sharded_ = nullptr;
  bool writeback_ = false;
};

// Bytes of model states one rank holds: weights, gradients (defined .grad
// plus a gradient shard) and optimizer state tensors, each storage counted once.
struct ModelStateBytes {
  std::int64_t parameters = 0;
  std::int64_t gradients = 0;
  std::int64_t optimizer = 0;
  std::int64_t total() const { return parameters + gradients + optimizer; }
};

class ZeroOptimizer {
 public:
  using Factory = std::function<std::shared_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>;

  // Moves `module`'s trainable parameters into the flat buffer (they become
  // views of it: same values, same autograd identity), registers the
  // gradient hooks and builds `factory`'s optimizer over this rank's shard.
  // Throws kiln::Error (naming the stage) for a stage other than 1, 2 or
  // 3, parameters of mixed dtype or device, or a factory whose optimizer
  // does not take exactly the one shard tensor.
  // Stage 3 takes rank 0's parameters and buffers first (its shards must
  // be cut from the same model) and then releases the parameters: they
  // hold values only inside unit_hooks(), gather_root_parameters() and
  // summon_full_params().
  // `watch`: as GradientSync's.
  ZeroOptimizer(torch::nn::Module& module, c10::intrusive_ptr<CollectiveGroup> group, const Factory& factory,
                ZeroOptions options = {}, std::shared_ptr<CollectiveWatch> watch = nullptr);
  ZeroOptimizer(const ZeroOptimizer&) = delete;
  ZeroOptimizer& operator=(const ZeroOptimizer&) = delete;

  // Every rank's parameters and buffers become rank 0's (stage 3: done by
  // the constructor; this broadcasts the buffers again).
  void broadcast_from_rank_zero();
  // As GradientSync: false on accumulation steps (gradients stay local).
  void set_sync(bool sync) { sync_.set_sync(sync); }
  // After the last backward of a step: waits for the reductions and gives
  // the shard its gradient (the mean over ranks). Stage 3: then releases
  // every parameter still gathered.
  void finish_gradient_sync();
  // --- stage 3 (no-ops or nullptr for stages 1 and 2) ---
  // What the network runs its units' forward through: the all-gathers and
  // releases (install with Network::set_unit_hooks).
  std::shared_ptr<models::UnitHooks> unit_hooks() const;
  // Collective: before a forward (each micro-batch's, and evaluation's),
  // the parameters outside the units; a no-op while they are gathered.
  void gather_root_parameters();
  // Local: every parameter released (after evaluation).
  void release_parameters();
  // Collective: see FullParameters.
  FullParameters summon_full_params(bool writeback = false);
  // Memory of released units kept for the next gathers of their size (at
  // most two units'; not model states, as DDP's buckets are not).
  std::size_t spare_unit_bytes() const;
  // Clipping over the whole model, computed from the shards (one all-reduce
  // of a scalar): torch::nn::utils::clip_grad_norm_'s result and effect.
  double clip_grad_norm_(double max_norm);
  void clip_grad_value_(double clip_value);
  // After optimizer().step(): all-gathers the shards into every rank's
  // parameters (stage 3: nothing to gather, the next forward does) and
  // drops the local gradients, ready for the next step.
  void all_gather_parameters();

  // The optimizer over this rank's shard (its learning rate is the one to
  // schedule; its state is this rank's part of the sharded checkpoint).
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  const std::shared_ptr<torch::optim::Optimizer>& optimizer_ptr() const { return optimizer_; }
  int stage() const { return options_.stage; }
  int rank() const { return rank_; }
  int world_size() const { return world_; }
  // Ψ, the shard length, and where this rank's shard starts in the flat space.
  std::int64_t flat_numel() const { return sync_.flat_numel(); }
  std::int64_t shard_numel() const { return sync_.shard_numel(); }
  std::int64_t shard_start() const { return static_cast<std::int64_t>(rank_) * sync_.shard_numel(); }
  const GradientSync& gradient_sync() const { return sync_; }
  // --- sharded checkpoints (the Trainer's checkpoint, docs/formats.md) ---
  // Collective: every rank's optimizer state (LibTorch's archive of its
  // shard), gathered on rank 0 in rank order; empty on the other ranks.
  std::vector<std::string> gather_optimizer_states();
  // Restores this rank's optimizer from the states `shards` of a run of
  // shards.size() ranks with shards of `shard_numel_then` elements over the
  // same flat layout. Same world size: this rank's archive as it is. Another
  // world size: the states are laid end to end and this rank takes its
  // slice (SGD, Adam and AdamW; others throw kiln::Error saying so).
  void load_optimizer_states(const std::vector<std::string>& shards, std::int64_t shard_numel_then);

  // Restores this rank's shard from the optimizer of a run without ZeRO
  // (one process or DDP): `whole` is of the run's kind and steps `params`,
  // stand-ins of the trainable parameters in module order (this optimizer's
  // order); their states are laid into the flat space and this rank keeps
  // its slice. SGD, Adam and AdamW; others throw kiln::Error. Throws when the
  // parameters' count or sizes differ from this model's.
  void load_whole_optimizer_state(torch::optim::Optimizer& whole, const std::vector<torch::Tensor>& params);
  // Bytes of parameters this rank's last step all-gathered: stages 1 and 2
  // in all_gather_parameters (Ψ elements), stage 3 in the step's forward
  // and backward (2Ψ, counted up to all_gather_parameters).
  std::size_t bytes_gathered() const { return bytes_gathered_; }
  ModelStateBytes model_state_bytes() const;

 private:
  torch::nn::Module& module_;
  c10::intrusive_ptr<CollectiveGroup> group_;
  ZeroOptions options_;
  int rank_ = 0;
  int world_ = 1;
  GradientSync sync_;                           // also this optimizer's CollectiveWatch
  torch::Tensor flat_params_;                   // stages 1, 2: world * shard elements; the parameters are views of it
  torch::Tensor shard_;                         // this rank's part of the flat space, the optimizer's only parameter
  std::shared_ptr<ShardedParameters> sharded_;  // stage 3
  Factory factory_;                             // builds optimizers of the run's kind (resharding a checkpoint)
  std::shared_ptr<torch::optim::Optimizer> optimizer_;
  std::size_t bytes_gathered_ = 0;
};

// A parameter of a run without ZeRO and where its elements lay in the flat
// space of a ZeRO run (zero.json's "parameters" offsets).
struct FlatPlacement {
  torch::Tensor parameter;
  std::int64_t offset = 0;
};

// Restores `optimizer`, a run's without ZeRO over whole parameters, from the
// optimizer shards a ZeRO run of shards.size() ranks saved (shards of
// `shard_numel` elements): each placed parameter's state is cut out of the
// flat space at its offset. `factory` builds optimizers of the saving run's
// kind, to read the archives. SGD, Adam and AdamW; others, and placements
// outside the flat space, throw kiln::Error.
void load_zero_shards_into_whole(torch::optim::Optimizer& optimizer, const std::vector<FlatPlacement>& placements,
                                 const std::vector<std::string>& shards, std::int64_t shard_numel,
                                 const ZeroOptimizer::Factory& factory);

// The model-state bytes of a module trained without ZeRO (the baseline of
// the memory table): its parameters, their .grad and `optimizer`'s state.
ModelStateBytes model_state_bytes(torch::nn::Module& module, const torch::optim::Optimizer& optimizer);

}  // namespace kiln::dist
