// ShardsDataModule: train, validate and test from shard sets written by
// `kiln data pack` (shard_format.h), through the StreamingLoader.
//
//   data: {_target_: shards, root: shards/fashion_mnist, batch_size: 128}
//
// Reads <root>/<train>.shards.json, <root>/<val>.shards.json and
// <root>/<test>.shards.json (val and test may be null). Batches: the
// `input` field as float32 divided by `scale`, then (x - mean) / std with
// normalize (for shards packed from Fashion-MNIST: exactly the inputs of the
// fashion_mnist datamodule); the `target` field as int64. Training batches are
// shuffled per epoch (seed, shuffle_buffer); validation and test are never
// shuffled. Rank and world size come from the options, else from the RANK
// and WORLD_SIZE environment variables, else 0 and 1; only training is
// split across ranks.
//
// Registered as the datamodule `shards` (register_builtin_datamodules()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kiln/config/schema.h"
#include "kiln/data/data_module.h"
#include "kiln/data/shard_reader.h"

namespace kiln::data {

struct ShardsOptions {
  // Directory holding the shard sets.
  std::string root = "shards/fashion_mnist";
  // Shard set names (manifest <name>.shards.json); null: no such stage.
  std::string train = "train";
  std::optional<std::string> val = "val";
  std::optional<std::string> test = "test";
  // Sample fields: the model input (.npy) and the target (.cls or .npy).
  std::string input = "input.npy";
  std::string target = "cls";
  std::int64_t batch_size = 128;        // >= 1, per rank
  std::int64_t eval_batch_size = 1000;  // >= 1
  std::uint64_t seed = 42;
  bool shuffle = true;
  std::int64_t shuffle_buffer = 10000;  // >= 1
  bool drop_last = false;
  // Decoding threads; 0: in the training thread; null: auto_num_workers().
  std::optional<std::int64_t> num_workers;
  std::int64_t prefetch_factor = 2;  // batches ready ahead per worker; >= 1
  double scale = 255.0;              // inputs are divided by it; > 0
  bool normalize = true;
  double mean = 0.2860;
  double stddev = 0.3530;  // config key: std
  // raise: a corrupt sample stops the run with an error naming shard, key and
  // offset; skip: it is left out and counted.
  std::string on_error = "raise";
  // Hash every shard against its manifest at setup (reads them once).
  bool verify = false;
  std::optional<std::int64_t> rank;        // default: $RANK or 0
  std::optional<std::int64_t> world_size;  // default: $WORLD_SIZE or 1
};

config::Schema<ShardsOptions> shards_schema();

// num_workers: null. On CUDA, 2: the cores feed the device. On the CPU, the
// cores the training's intra-op threads leave free, at most 2: this rank's
// share of available_cores() (divided by $LOCAL_WORLD_SIZE, else
// $WORLD_SIZE, as the Trainer divides them) minus at::get_num_threads(),
// which the Trainer sets before it asks for loaders. A worker on a core an intra-op thread needs preempts it, and
// each parallel op then waits for the preempted thread: on 2 cores with 2
// intra-op threads, the MLP from shards ran at 0.87x the in-memory IDX
// loader's speed with 2 workers and 1.03x with none.
std::size_t auto_num_workers();

class ShardsDataModule final : public DataModule {
 public:
  explicit ShardsDataModule(ShardsOptions options = {});

  // Opens the manifests and indexes (once). Throws kiln::IoError /
  // DataFormatError naming the file.
  void setup() override;
  std::unique_ptr<BatchLoader> train_loader() override;
  std::unique_ptr<BatchLoader> val_loader() override;
  std::unique_ptr<BatchLoader> test_loader() override;
  std::unique_ptr<BatchLoader> predict_loader() override;
  std::unique_ptr<BatchLoader> sequential_train_loader() override;
  // Every tar and index the module reads.
  std::vector<DataFile> files() const override;
  // The Trainer's data-parallel world (the same RANK/WORLD_SIZE the
  // defaults read), so an explicit data.rank cannot disagree with DDP's.
  void set_replica(std::size_t rank, std::size_t num_replicas) override {
    rank_ = rank;
    world_size_ = num_replicas;
  }

  const ShardsOptions& options() const { return options_; }

 private:
  std::unique_ptr<BatchLoader> make(const std::shared_ptr<const ShardSet>& shards, bool train, bool shuffle) const;

  ShardsOptions options_;
  std::size_t rank_ = 0, world_size_ = 1;
  bool ready_ = false;
  std::shared_ptr<const ShardSet> train_, val_, test_;
};

}  // namespace kiln::data
