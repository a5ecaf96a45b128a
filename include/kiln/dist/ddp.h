// Data-parallel gradient synchronisation, as PyTorch's DDP does it: the
// parameters and buffers start as rank 0's, and during backward each
// parameter's gradient is copied into a bucket the moment autograd has it;
// a full bucket is reduced at once (asynchronously, over Gloo), so
// communication overlaps the rest of backward.
//
// The buckets lay the parameters end to end, in reverse order, in one flat
// gradient space of flat_numel() elements. Two reductions over it:
//   - all-reduce (DDP): finish_gradient_sync() leaves every parameter's
//     .grad the mean over ranks;
//   - reduce to shard owners (ZeRO, zero.h): the flat space is cut into
//     world-size shards of shard_numel() elements, each bucket is reduced
//     only to the ranks whose shard it covers, and finish_gradient_sync()
//     leaves this rank's shard of the mean in gradient_shard().
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "kiln/dist/c10d_compat.h"
#include "kiln/dist/collective_watch.h"

namespace kiln::dist {

struct DdpOptions {
  // Bucket size: PyTorch's default bucket_cap_mb = 25.
  std::size_t bucket_cap_bytes = 25u << 20;
  // false: all-reduce (DDP). true: reduce each bucket to its shards' owners
  // (ZeRO stages 1 and 2); .grad is then left as backward wrote it, the
  // local gradient, unless free_reduced_gradients.
  bool reduce_to_shard_owners = false;
  // With reduce_to_shard_owners (ZeRO-2): each parameter's .grad is freed as
  // soon as its bucket is reduced, so after the sync a rank holds only its
  // gradient shard. Accumulation steps (set_sync(false)) keep them.
  bool free_reduced_gradients = false;
};

class GradientSync {
 public:
  // Registers a gradient hook on every parameter of `module` that requires
  // grad. Buckets follow the reverse parameter order, since backward
  // produces the last layers' gradients first. Throws kiln::Error when the
  // parameters do not share one dtype and device. `watch` (process_group.h's
  // context.watch) names the ranks missing from a failed reduction; without
  // one, failures name this rank and the collective only.
  GradientSync(torch::nn::Module& module, c10::intrusive_ptr<CollectiveGroup> group, DdpOptions options = {},
               std::shared_ptr<CollectiveWatch> watch = nullptr);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Every rank's parameters and buffers become rank 0's.
  void broadcast_from_rank_zero();
  // While false (Lightning's no_sync for accumulation steps), backward
  // only accumulates locally; the next synced backward reduces the sum.
  void set_sync(bool sync) { sync_ = sync; }
  // After backward, before the optimizer step: launches what the hooks did
  // not (parameters that got no gradient count as zero), waits, and
  // writes the mean over ranks into each .grad (all-reduce) or into
  // gradient_shard() (reduce to shard owners).
  void finish_gradient_sync();

  std::size_t bucket_count() const;
  // What this sync waits for collectives through (the one given, or its own).
  const std::shared_ptr<CollectiveWatch>& watch() const { return watch_; }
  // Bytes the bucket buffers hold now.
  std::int64_t bucket_buffer_bytes() const;
  // Bytes handed to collectives by the last finish_gradient_sync (the
  // gradients once: Ψ elements times their size).
  //
  // Memory: DDP keeps its buckets (Ψ elements besides .grad, as PyTorch's
  // DDP without gradient_as_bucket_view); ZeRO allocates a bucket when its
  // first gradient comes and frees it once reduced, so between steps it
  // holds no bucket at all.
  std::size_t bytes_reduced() const { return bytes_reduced_; }

  // --- the flat gradient space (used by ZeroOptimizer) ---
  // The trainable parameters, in module order, and where each one starts
  // in the flat space.
  const std::vector<torch::Tensor>& parameters() const { return params_; }
  std::int64_t flat_offset(std::size_t param_index) const { return flat_offset_[param_index]; }
  // Ψ: the trainable elements. The shards pad it to world * shard_numel().
  std::int64_t flat_numel() const { return flat_numel_; }
  std::int64_t shard_numel() const { return shard_numel_; }
  // This rank's shard of the mean gradient (reduce_to_shard_owners only),
  // valid after finish_gradient_sync; zero in the padding.
  const torch::Tensor& gradient_shard() const { return gradient_shard_; }

 private:
  struct Bucket;
  std::string describe(const Bucket& bucket) const;
  void on_gradient(std::size_t param_index, const torch::Tensor& grad);
  void launch(Bucket& bucket);
  // The bucket's buffer, allocated when missing.
  torch::Tensor& buffer(Bucket& bucket);
  bool all_completed(const Bucket& bucket) const;
  // Waits for the bucket's reductions and puts the result where it goes:
  // each .grad (all-reduce), or this rank's part of gradient_shard() (ZeRO,
  // which then frees the bucket's buffer).
  void harvest(Bucket& bucket);
  void free_gradients(const Bucket& bucket, std::size_t except_param);

  torch::nn::Module& module_;
  c10::intrusive_ptr<CollectiveGroup> group_;
  DdpOptions options_;
  std::shared_ptr<CollectiveWatch> watch_;
  std::vector<torch::Tensor> params_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  // For each parameter: its bucket and offset (elements) within it, and
  // its offset in the flat space.
  std::vector<std::pair<std::size_t, std::int64_t>> slot_;
  std::vector<std::int64_t> flat_offset_;
  std::int64_t flat_numel_ = 0;
  std::int64_t shard_numel_ = 0;
  torch::Tensor gradient_shard_;
  bool sync_ = true;
  std::size_t bytes_reduced_ = 0;
};

}  // namespace kiln::dist
