// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) as a DataModule: kiln's
// default experiment data. 70,000 28x28 grey images of 10 kinds of clothing:
// 60,000 for training (split here into train and validation) and 10,000 for
// test.
//
// Reads the four gzip-compressed IDX files of Debian's dataset-fashion-mnist
// package from `root`:
//   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
//   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
//
// Batches: input float32 [B, 1, 28, 28], pixel / 255, then (x - mean) / std
// when normalize is on (torchvision's ToTensor + Normalize); target int64 [B]
// in 0..9. The pixels stay uint8 in memory (about 55 MB for all three
// splits); each batch is converted when it is made, in the prefetch thread
// when num_workers > 0.
//
// Splits: the validation set is round(60000 * val_fraction) training images
// chosen by random_permutation(60000, derive_seed(seed, kSplitStream)) (see
// shuffle.h), so the split is a pure function of seed and val_fraction. Both
// train and validation keep the file order of their images; train_loader
// shuffles them per epoch (with `seed`), val_loader and test_loader never
// shuffle and never drop a batch.
//
// Registered as the datamodule `fashion_mnist` (register_builtin_datamodules()):
//   data: {_target_: fashion_mnist, batch_size: 64, val_fraction: 0.1}
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/config/schema.h"
#include "kiln/data/data_module.h"
#include "kiln/data/fashion_mnist_split.h"

namespace kiln::data {

struct FashionMnistOptions {
  // Directory holding the four IDX files.
  std::string root = "/usr/share/datasets/fashion-mnist";
  // Training examples per batch; >= 1.
  std::int64_t batch_size = 128;
  // Fraction of the 60,000 training images held out for validation, in
  // [0, 1); 0 means no validation loader.
  double val_fraction = 0.1;
  // Seeds the train/validation split and the training order.
  std::uint64_t seed = 42;
  // Shuffle the training set each epoch.
  bool shuffle = true;
  // Batches made ahead by a background thread (prefetch); 0 makes them in
  // the trainer's thread.
  std::int64_t num_workers = 2;
  // Subtract mean and divide by stddev after scaling pixels to [0, 1].
  bool normalize = true;
  double mean = 0.2860;    // Fashion-MNIST's pixel mean (training set)
  double stddev = 0.3530;  // and standard deviation; > 0 (config key: std)
  // Drop the last, smaller training batch of each epoch.
  bool drop_last = false;
  // Examples per batch of the validation and test loaders; >= 1.
  std::int64_t eval_batch_size = 1000;
};

// The schema of FashionMnistOptions, named "fashion_mnist" (config keys as
// above, `std` for stddev).
config::Schema<FashionMnistOptions> fashion_mnist_schema();

class FashionMnistDataModule final : public DataModule {
 public:
  // The seed stream of the train/validation split (derive_seed(seed, this)).
  static constexpr std::uint64_t kSplitStream = kFashionMnistSplitStream;

  // Throws kiln::InvalidParam (a ConfigError at that key when built from a
  // config) for a value out of range. Reads nothing until setup().
  explicit FashionMnistDataModule(FashionMnistOptions options = {});

  // Reads the four files (once). Throws kiln::IoError naming the missing
  // files, with the install hint, when any is absent; kiln::IoError or
  // DataFormatError (from load_idx) when one cannot be read or has the
  // wrong shape or labels outside 0..9.
  void setup() override;

  // Each calls setup() first if it has not run. val_loader is nullptr when
  // val_fraction is 0.
  std::unique_ptr<BatchLoader> train_loader() override;
  std::unique_ptr<BatchLoader> val_loader() override;
  std::unique_ptr<BatchLoader> test_loader() override;
  // The test split (what `predict` runs on).
  std::unique_ptr<BatchLoader> predict_loader() override;
  // The training split in file order, never shuffled (overfit_batches).
  std::unique_ptr<BatchLoader> sequential_train_loader() override;

  // The four files with their sizes on disk (stat, no read); throws the same
  // IoError as setup() when any is missing.
  std::vector<DataFile> files() const override;
  void set_replica(std::size_t rank, std::size_t num_replicas) override {
    replica_rank_ = rank;
    num_replicas_ = num_replicas;
  }

  const FashionMnistOptions& options() const { return options_; }

 private:
  struct Split {
    torch::Tensor images;  // uint8 [N, 1, 28, 28]
    torch::Tensor labels;  // int64 [N]
  };

  std::unique_ptr<BatchLoader> make_loader(const Split& split, std::int64_t batch_size, bool train, bool shuffle) const;

  FashionMnistOptions options_;
  std::size_t replica_rank_ = 0, num_replicas_ = 1;
  bool ready_ = false;
  Split train_, val_, test_;
};

}  // namespace kiln::data
