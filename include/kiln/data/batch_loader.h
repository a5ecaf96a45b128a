// BatchLoader: a finite, restartable sequence of batches for one epoch
// (what the trainer iterates; Lightning's DataLoader).
//
//   loader->start_epoch(epoch);            // or start_epoch(epoch, k) to resume at batch k
//   while (auto batch = loader->next()) {  // nullopt at the end of the epoch
//     step(batch->input, batch->target);
//   }
//
// Determinism contract, which every implementation keeps: the batches of
// epoch e are a pure function of the loader's data, options and seed and of
// e, identical on every run, platform and LibTorch version, with or without
// background prefetching. start_epoch(e, k) yields exactly batches k, k+1, ...
// of what start_epoch(e, 0) would have yielded, so a run resumed from a
// checkpoint that recorded (epoch, batches consumed) sees the same data as an
// uninterrupted one.
//
// Thread safety: one consumer. Calls on one loader must not overlap; an
// implementation may use threads of its own behind this interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "kiln/data/batch.h"

namespace kiln::data {

class BatchLoader {
 public:
  virtual ~BatchLoader() = default;

  // Batches per epoch (constant for the loader's life).
  virtual std::size_t size() const = 0;
  // Examples in the data set, dropped ones included (constant).
  virtual std::size_t num_samples() const = 0;

  // Starts epoch `epoch` (>= 0) at batch `start_batch` (0 <= start_batch <=
  // size(); size() gives an empty rest of the epoch), abandoning the epoch in
  // progress. Throws kiln::Error for a negative epoch or a start_batch past
  // size(), after which no epoch is in progress (next() returns nullopt).
  // next() before the first start_epoch acts as if start_epoch(0) had been
  // called.
  virtual void start_epoch(std::int64_t epoch, std::size_t start_batch = 0) = 0;

  // The next batch of the epoch, or nullopt after its last one (and on every
  // call after that until the next start_epoch). An exception raised while
  // making a batch (in a background thread too) is thrown here; kiln's
  // loaders then throw it again on every call until the next start_epoch,
  // so a failed epoch never looks like a finished one.
  virtual std::optional<Batch> next() = 0;
};

}  // namespace kiln::data
