#include "kiln/data/prefetch_loader.h"

#include <string>
#include <utility>

#include "kiln/error.h"

namespace kiln::data {

PrefetchLoader::PrefetchLoader(std::unique_ptr<BatchLoader> inner, std::size_t depth)
    : inner_(std::move(inner)), depth_(depth) {
  if (!inner_) throw kiln::Error("PrefetchLoader: the loader to wrap is null");
  if (depth_ == 0) throw kiln::Error("PrefetchLoader: depth must be >= 1, found 0 (use the loader itself instead)");
}

PrefetchLoader::~PrefetchLoader() { stop_worker(); }

void PrefetchLoader::stop_worker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
  // Batches made ahead are dropped here, in the caller's thread.
  queue_.clear();
  stop_ = false;
}

void PrefetchLoader::start_epoch(std::int64_t epoch, std::size_t start_batch) {
  stop_worker();
  started_ = true;
  try {
    // Validation errors (a bad epoch or start_batch) reach the caller here,
    // before a worker exists.
    inner_->start_epoch(epoch, start_batch);
    worker_ = std::thread([this] { run_worker(); });
  } catch (...) {
    queue_.push_back(Item{});  // no epoch in progress: next() returns nullopt
    throw;
  }
}

std::optional<Batch> PrefetchLoader::next() {
  if (!started_) start_epoch(0);
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !queue_.empty(); });
  Item& front = queue_.front();
  // The end of the epoch and an error stay queued: every later call sees
  // them again, as the contract asks.
  if (front.error) std::rethrow_exception(front.error);
  if (!front.batch) return std::nullopt;
  std::optional<Batch> batch = std::move(front.batch);
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return batch;
}

void PrefetchLoader::run_worker() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || queue_.size() < depth_; });
      if (stop_) return;
    }
    Item item;
    try {
      // Outside the lock: the consumer takes batches while this one is made.
      item.batch = inner_->next();
    } catch (...) {
      item.error = std::current_exception();
    }
    const bool last = !item.batch;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(item));
    }
    changed_.notify_all();
    if (last) return;
  }
}

}  // namespace kiln::data
