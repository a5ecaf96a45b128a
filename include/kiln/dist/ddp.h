// Data-parallel gradient synchronisation, as PyTorch's DDP does it: the
// parameters and buffers start as rank 0's, and during backward each
// parameter's gradient is copied into a bucket the moment autograd has it;
// a full bucket is all-reduced at once (asynchronously, over Gloo), so
// communication overlaps the rest of backward. finish_gradient_sync() waits
// for the buckets and leaves every parameter's .grad the mean over ranks.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <memory>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <vector>

namespace kiln::dist {

struct DdpOptions {
  // Bucket size: PyTorch's default bucket_cap_mb = 25.
  std::size_t bucket_cap_bytes = 25u << 20;
};

class GradientSync {
 public:
  // Registers a gradient hook on every parameter of `module` that requires
  // grad. Buckets follow the reverse parameter order, since backward
  // produces the last layers' gradients first.
  GradientSync(torch::nn::Module& module, c10::intrusive_ptr<c10d::ProcessGroup> group, DdpOptions options = {});
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
  // writes the mean over ranks into each .grad.
  void finish_gradient_sync();

  std::size_t bucket_count() const;
  // Bytes all-reduced by the last finish_gradient_sync (the gradients once).
  std::size_t bytes_reduced() const { return bytes_reduced_; }

 private:
  struct Bucket;
  void on_gradient(std::size_t param_index, const torch::Tensor& grad);
  void launch(Bucket& bucket);

  torch::nn::Module& module_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  std::vector<torch::Tensor> params_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  // For each parameter: its bucket and offset (elements) within it.
  std::vector<std::pair<std::size_t, std::int64_t>> slot_;
  bool sync_ = true;
  std::size_t bytes_reduced_ = 0;
};

}  // namespace kiln::dist
