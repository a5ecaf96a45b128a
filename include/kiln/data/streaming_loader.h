// StreamingLoader: batches from a shard set (shard_reader.h), decoded by
// worker threads into a bounded queue, in an order that is a pure function
// of (seed, epoch) — never of the number of workers or of timing.
//
//   StreamingLoader loader({.shards = ShardSet::open("out/train.shards.json"),
//                           .batch_size = 128, .seed = 42, .num_workers = 2});
//   loader.start_epoch(epoch);
//   while (auto batch = loader.next()) { ... }
//
// Order: epoch_order() (shard_order.h): shuffled shards through a shuffle
// buffer, seeded from (seed, epoch). Rank `rank` of `world_size` takes its
// slice of every global batch of batch_size * world_size samples, so ranks
// are disjoint and together cover the epoch. Batch k of an epoch is the
// rank's part of global batch k; start_epoch(e, k) resumes there. Resuming
// with another world_size continues the same global order when the global
// batch (batch_size * world_size) is unchanged (4 ranks x 32 -> 2 ranks x
// 64); for any other change, samples_consumed() at save and resume_at() on
// resume continue from the exact global sample.
//
// Samples: `input_field` and `target_field` of each sample ("input.npy" and
// "cls" by default): a .npy member becomes a tensor of its dtype and shape,
// "cls" an int64 scalar. A batch stacks them: input [B, ...], target [B].
//
// Workers: batch b is made by worker b % num_workers, at most
// num_workers * prefetch_factor batches ahead of the consumer; next() takes a
// ready batch without waiting. num_workers 0 makes batches in next().
// Batches land in pinned memory when pin_memory is set (CUDA training).
//
// Errors: a corrupt or truncated sample (ShardCorruptError, naming shard,
// key and byte offset) or a sample that cannot be decoded is thrown by
// next() for its batch and again until start_epoch; with on_error kSkip it is
// left out of its batch, counted in skipped_samples() and reported on
// stderr once per sample.
//
// Thread safety: one consumer, like every BatchLoader.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiln/data/batch_loader.h"
#include "kiln/data/input_scaling.h"
#include "kiln/data/shard_order.h"
#include "kiln/data/shard_reader.h"

namespace kiln::data {

enum class OnError { kRaise, kSkip };

class BatchBufferPool;

struct StreamingLoaderOptions {
  // The samples; not null.
  std::shared_ptr<const ShardSet> shards;
  // Samples per batch on this rank; >= 1.
  std::size_t batch_size = 1;
  bool shuffle = true;
  std::uint64_t seed = 0;
  // Shuffle buffer slots (epoch_order's buffer); >= 1.
  std::size_t shuffle_buffer = 10000;
  // Drop an incomplete last global batch (every rank then takes the same
  // number of full batches).
  bool drop_last = false;
  // Decoding threads; 0 decodes in next().
  std::size_t num_workers = 2;
  // Batches each worker may have ready ahead of the consumer; >= 1.
  std::size_t prefetch_factor = 2;
  // This rank and the number of ranks; rank < world_size.
  std::size_t rank = 0;
  std::size_t world_size = 1;
  OnError on_error = OnError::kRaise;
  std::string input_field = "input.npy";
  std::string target_field = "cls";
  // Set: the input field is stacked as float32 through this scaling, each
  // sample converted straight into its batch row (input_scaling.h). Unset:
  // it keeps its dtype.
  std::optional<InputScaling> input_scaling;
  // Applied to each batch in the worker (type conversion, normalisation);
  // must be a pure function of the batch.
  std::function<Batch(Batch)> transform;
  bool pin_memory = false;
};

class StreamingLoader final : public BatchLoader {
 public:
  // Throws kiln::Error naming the option for a null shard set, a zero
  // batch_size, shuffle_buffer or prefetch_factor, or rank >= world_size.
  explicit StreamingLoader(StreamingLoaderOptions options);
  ~StreamingLoader() override;
  StreamingLoader(const StreamingLoader&) = delete;
  StreamingLoader& operator=(const StreamingLoader&) = delete;

  std::size_t size() const override;
  std::size_t num_samples() const override;
  void start_epoch(std::int64_t epoch, std::size_t start_batch = 0) override;
  std::optional<Batch> next() override;

  // Samples of the current epoch all ranks together have consumed once this
  // rank has taken its batches before `next_batch` (what a checkpoint at that
  // point records).
  std::uint64_t samples_consumed(std::size_t next_batch) const;
  // Makes the next start_epoch(epoch, k) continue epoch `epoch` right after
  // its first `samples_consumed` global samples (any world size); returns
  // the k to pass (so k..size() still covers the rest).
  std::size_t resume_at(std::int64_t epoch, std::uint64_t samples_consumed);

  // Samples left out under on_error kSkip so far (all epochs).
  std::uint64_t skipped_samples() const { return skipped_.load(); }

  const StreamingLoaderOptions& options() const { return options_; }

 private:
  struct Item {
    std::optional<Batch> batch;  // nullopt: every sample of it was skipped
    std::exception_ptr error;
  };

  Item make(std::size_t b);
  void run_worker(std::size_t w);
  void stop_workers();

  StreamingLoaderOptions options_;
  std::uint64_t n_ = 0;
  // The epoch in progress.
  std::int64_t epoch_ = -1;
  std::vector<std::uint64_t> order_;
  RankSlice slice_;
  std::size_t first_batch_ = 0;  // the trainer's index of the slice's batch 0
  std::size_t count_ = 0;        // batches in the slice
  std::size_t next_ = 0;         // the slice batch next() yields next
  std::exception_ptr failure_;
  bool started_ = false;
  std::optional<std::pair<std::int64_t, std::uint64_t>> pending_resume_;
  // Workers.
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  // Each wakes only the thread that can go on: a worker whose next batch
  // came within the prefetch window, or the consumer when a batch is ready.
  // (Waking every worker for every batch cost the MLP 10% of its step on 2
  // cores: each wake-up preempts a training thread.)
  std::vector<std::unique_ptr<std::condition_variable>> window_moved_;  // one per worker
  std::condition_variable batch_ready_;
  std::map<std::size_t, Item> ready_;
  bool stop_ = false;
  std::atomic<std::uint64_t> skipped_{0};
  std::shared_ptr<BatchBufferPool> pool_;  // the batches' memory, reused
};

}  // namespace kiln::data
