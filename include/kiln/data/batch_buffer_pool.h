// Batch memory that comes back: a StreamingLoader's batch tensors are
// carved from buffers this pool hands out and takes back when the last
// tensor using one is gone, so each batch lands in memory that is already
// mapped. Measured (docs/benchmarks.md, loader): with glibc's per-thread
// arenas, 16 MB batches made by worker threads went back to the kernel and
// were page-faulted in again for every batch, which cost large samples
// more than the copies themselves.
//
// Thread safety: any thread may take and give back buffers (the workers
// take them, the training thread drops the tensors).
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace kiln::data {

class BatchBufferPool : public std::enable_shared_from_this<BatchBufferPool> {
 public:
  // Keeps at most `keep` free buffers of each size; more are freed.
  static std::shared_ptr<BatchBufferPool> create(std::size_t keep);
  ~BatchBufferPool();
  BatchBufferPool(const BatchBufferPool&) = delete;
  BatchBufferPool& operator=(const BatchBufferPool&) = delete;

  // An uninitialised CPU tensor of `sizes` and `dtype` over a pooled buffer.
  torch::Tensor empty(const std::vector<std::int64_t>& sizes, torch::ScalarType dtype);
  // Free buffers held now (for tests).
  std::size_t free_buffers() const;

 private:
  explicit BatchBufferPool(std::size_t keep) : keep_(keep) {}
  void give_back(void* buffer, std::size_t bytes);

  std::size_t keep_;
  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;  // by size in bytes
};

}  // namespace kiln::data
