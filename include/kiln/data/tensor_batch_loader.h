// TensorBatchLoader: batches from two in-memory tensors whose first
// dimension indexes examples (Lightning's DataLoader over a TensorDataset).
//
//   TensorBatchLoader loader(images, labels, {.batch_size = 128, .shuffle = true, .seed = 42, .prefetch = 2});
//   loader.start_epoch(epoch);
//   while (auto batch = loader.next()) { ... }
//
// Order: without shuffle, examples in index order. With shuffle, epoch e
// visits them in random_permutation(n, epoch_seed(seed, e)) order (see
// shuffle.h): a pure function of (seed, e, n), identical on every run,
// platform and LibTorch version, and the same with any prefetch depth. Batch
// b holds the examples at positions [b * batch_size, (b + 1) * batch_size) of
// that order; the last one is smaller, or dropped with drop_last.
//
// Each batch is copied out of the tensors (index_select), so the caller may
// change it freely. The loader keeps references to the tensors it was given
// (no copy), which must not be changed in place while it is in use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "kiln/data/batch_loader.h"

namespace kiln::data {

struct TensorBatchLoaderOptions {
  // Examples per batch; >= 1.
  std::size_t batch_size = 1;
  // Visit the examples in a new random order each epoch.
  bool shuffle = false;
  // Seeds the order when shuffle is on; each epoch derives its own seed.
  std::uint64_t seed = 0;
  // Drop the last batch of an epoch when it is smaller than batch_size.
  bool drop_last = false;
  // Batches made ahead by a background thread (PrefetchLoader); 0 makes
  // them in the caller's thread, in next().
  std::size_t prefetch = 0;
  // Applied to each batch before it is returned (type conversion,
  // normalisation), in the prefetch thread when there is one; an exception it
  // throws is thrown by next(). It must be a pure function of the batch for
  // the order guarantees above to cover its output.
  std::function<Batch(Batch)> transform;
  // Data parallel (DistributedSampler's num_replicas and rank): the epoch's
  // order is cut into global batches of batch_size * num_replicas examples
  // and this replica gets slice `rank` of each, so the replicas together see
  // exactly what one loader with the global batch size sees. With more than
  // one replica an incomplete last global batch is dropped, so every replica
  // takes the same number of full steps.
  std::size_t num_replicas = 1;
  std::size_t rank = 0;
};

class TensorBatchLoader final : public BatchLoader {
 public:
  // `inputs` and `targets` must be defined, have at least one dimension and
  // the same size in the first; throws kiln::Error naming the problem (also
  // for batch_size 0).
  TensorBatchLoader(torch::Tensor inputs, torch::Tensor targets, TensorBatchLoaderOptions options = {});
  ~TensorBatchLoader() override;

  std::size_t size() const override;
  std::size_t num_samples() const override;
  void start_epoch(std::int64_t epoch, std::size_t start_batch = 0) override;
  std::optional<Batch> next() override;

  const TensorBatchLoaderOptions& options() const { return options_; }

 private:
  TensorBatchLoaderOptions options_;
  // The loader that does the work: the synchronous core, or a PrefetchLoader around it.
  std::unique_ptr<BatchLoader> impl_;
};

}  // namespace kiln::data
