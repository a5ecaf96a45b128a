// DataModule: everything a job needs to know about its data, in one object
// (Lightning's LightningDataModule): which files it reads, and a loader per
// stage.
//
//   auto dm = kiln::instantiate_at<kiln::data::DataModule>(cfg, {"data"});
//   dm->setup();                                   // reads the files, once
//   std::unique_ptr<BatchLoader> train = dm->train_loader();
//   std::unique_ptr<BatchLoader> val = dm->val_loader();  // nullptr: no validation
//
// Data modules are a registry kind named "datamodule": a config node
// `{_target_: fashion_mnist, batch_size: 64}` builds one (see
// builtin_datamodules.h and docs/data.md for writing and registering your own).
//
// Ownership: a loader may share the module's tensors but never refers to
// the module itself, so it may outlive it. Thread safety: setup() and the
// *_loader() calls are meant for one thread (the trainer's); each loader is
// then used by one consumer (see batch_loader.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/data/batch_loader.h"
#include "kiln/error.h"
#include "kiln/registry/kind.h"

namespace kiln::data {

// A file a DataModule reads, for the run manifest.
struct DataFile {
  std::string path;    // as opened (root joined with the file name)
  std::uint64_t size;  // bytes on disk
};

class DataModule {
 public:
  virtual ~DataModule() = default;

  // Reads and prepares the data (Lightning's setup). Idempotent: calls after
  // the first successful one do nothing. Environment problems (a missing or
  // corrupt file) throw kiln::IoError.
  virtual void setup() {}

  // A new loader over the stage's data; nullptr when the module has no data
  // for that stage. Each call returns an independent loader.
  virtual std::unique_ptr<BatchLoader> train_loader() = 0;
  virtual std::unique_ptr<BatchLoader> val_loader() { return nullptr; }
  virtual std::unique_ptr<BatchLoader> test_loader() { return nullptr; }
  virtual std::unique_ptr<BatchLoader> predict_loader() { return nullptr; }

  // The training data without shuffling: every epoch yields the same batches
  // in the same order (the Trainer's overfit_batches uses it, as Lightning
  // swaps in a SequentialSampler). nullptr (the default) when the module
  // cannot give one; the Trainer then uses train_loader() and restarts it at
  // epoch 0 every epoch, which also repeats the batches (in that order).
  virtual std::unique_ptr<BatchLoader> sequential_train_loader() { return nullptr; }

  // The files the module reads (path and size), for the run manifest; empty
  // for data made in memory.
  virtual std::vector<DataFile> files() const { return {}; }

  // Data-parallel training (the Trainer's ddp strategy) calls this before
  // the first loader: train loaders made afterwards give replica `rank` of
  // `num_replicas` its disjoint slice of every global batch (see
  // TensorBatchLoaderOptions::num_replicas). Modules that cannot shard keep
  // the default, which refuses.
  virtual void set_replica(std::size_t rank, std::size_t num_replicas) {
    if (num_replicas > 1)
      throw Error("this DataModule cannot shard its training data across " + std::to_string(num_replicas) +
                  " data-parallel ranks (it does not implement set_replica)");
    (void)rank;
  }
};

}  // namespace kiln::data

// kiln::registry<kiln::data::DataModule>(): data modules are built from
// config alone.
KILN_DEFINE_KIND(kiln::data::DataModule, "datamodule");
