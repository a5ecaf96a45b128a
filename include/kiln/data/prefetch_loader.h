// PrefetchLoader: makes the batches of another loader ahead of time, in a
// background thread, while the caller trains on the current one.
//
//   auto loader = std::make_unique<PrefetchLoader>(std::move(slow_loader), /*depth=*/2);
//
// It yields exactly the batches of the loader it wraps, in the same order
// (the wrapped loader is only ever called from one thread at a time, so its
// determinism carries over). The worker runs the wrapped loader's next() up
// to `depth` batches ahead and then waits; it starts at start_epoch (or at
// the first next()) and stops at the end of each epoch.
//
// Shutdown: start_epoch and the destructor stop the worker and join it,
// dropping the batches it made ahead; the wait is at most the time the
// wrapped loader takes for one batch. Errors: an exception thrown by the
// wrapped loader in the worker is thrown by next() in place of the batch it
// failed to make, and again on each later next() until start_epoch.
//
// A start_epoch that throws (a bad epoch or start_batch) leaves no epoch in
// progress: next() returns nullopt until a start_epoch succeeds.
//
// Thread safety: one consumer, like every BatchLoader. The wrapped loader's
// next() runs in the worker while the consumer may call size() and
// num_samples(), so those two must be safe to call meanwhile (constants
// are); nothing else of it is called concurrently.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "kiln/data/batch_loader.h"

namespace kiln::data {

class PrefetchLoader final : public BatchLoader {
 public:
  // Wraps `inner` (not null), keeping up to `depth` (>= 1) batches ready.
  // Throws kiln::Error for a null loader or a depth of 0.
  PrefetchLoader(std::unique_ptr<BatchLoader> inner, std::size_t depth);
  ~PrefetchLoader() override;
  PrefetchLoader(const PrefetchLoader&) = delete;
  PrefetchLoader& operator=(const PrefetchLoader&) = delete;

  std::size_t size() const override { return inner_->size(); }
  std::size_t num_samples() const override { return inner_->num_samples(); }
  void start_epoch(std::int64_t epoch, std::size_t start_batch = 0) override;
  std::optional<Batch> next() override;

  std::size_t depth() const { return depth_; }

 private:
  // A slot of the queue: a batch, the end of the epoch (no batch, no
  // error), or the error that ended it.
  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void run_worker();
  void stop_worker();

  std::unique_ptr<BatchLoader> inner_;
  const std::size_t depth_;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;  // an item was queued or taken, or stop was asked
  std::deque<Item> queue_;
  bool stop_ = false;
  bool started_ = false;  // an epoch was started (the worker ran or runs)
};

}  // namespace kiln::data
