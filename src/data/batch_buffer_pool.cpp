#include "kiln/data/batch_buffer_pool.h"

#include <cstdlib>
#include <new>

namespace kiln::data {

std::shared_ptr<BatchBufferPool> BatchBufferPool::create(std::size_t keep) {
  return std::shared_ptr<BatchBufferPool>(new BatchBufferPool(keep));
}

BatchBufferPool::~BatchBufferPool() {
  for (auto& [bytes, buffer] : free_) std::free(buffer);
}

torch::Tensor BatchBufferPool::empty(const std::vector<std::int64_t>& sizes, torch::ScalarType dtype) {
  std::int64_t numel = 1;
  for (std::int64_t s : sizes) numel *= s;
  // Rounded up so that buffers of nearly equal batches are shared, and
  // never 0 bytes.
  const std::size_t bytes = (static_cast<std::size_t>(numel) * c10::elementSize(dtype) + 63) / 64 * 64 + 64;
  void* buffer = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = free_.find(bytes);
    if (it != free_.end()) {
      buffer = it->second;
      free_.erase(it);
    }
  }
  if (!buffer && posix_memalign(&buffer, 64, bytes) != 0) throw std::bad_alloc();
  // The deleter holds the pool: a batch may outlive its loader.
  std::shared_ptr<BatchBufferPool> self = shared_from_this();
  return torch::from_blob(
      buffer, sizes, [self, bytes](void* p) { self->give_back(p, bytes); }, torch::TensorOptions().dtype(dtype));
}

void BatchBufferPool::give_back(void* buffer, std::size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    if (free_.count(bytes) < keep_) {
      free_.emplace(bytes, buffer);
      return;
    }
  }
  std::free(buffer);
}

std::size_t BatchBufferPool::free_buffers() const {
  std::lock_guard lock(mutex_);
  return free_.size();
}

}  // namespace kiln::data
