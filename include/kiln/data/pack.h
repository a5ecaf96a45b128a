// Packing a data source into shards (shard_writer.h): what `kiln data pack`
// runs. Torch-free.
//
// fashion_mnist: the four IDX files of Debian's dataset-fashion-mnist under
// `root` become the shard sets train, val and test (or those in `splits`),
// the same split as FashionMnistDataModule with the same val_fraction and
// seed (fashion_mnist_split.h). A sample is
//   <key>.cls        the label, decimal text ("7")
//   <key>.input.npy  the image, uint8 [1, 28, 28] (channel first, as the model sees it)
// with the key the image's number within its split, 8 digits ("00001234").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/data/shard_format.h"

namespace kiln::data {

struct FashionMnistPackOptions {
  std::filesystem::path root = "/usr/share/datasets/fashion-mnist";  // the *-ubyte.gz files
  std::filesystem::path out;                                         // where the shards go
  std::uint64_t shard_bytes = 256'000'000;
  std::vector<std::string> splits = {"train", "val", "test"};
  double val_fraction = 0.1;
  std::uint64_t seed = 42;
};

// Writes one shard set per split; returns their manifests in `splits`
// order. Throws kiln::UsageError for an unknown split or a val_fraction out
// of [0, 1), kiln::IoError / DataFormatError (naming the file) for missing
// or bad IDX files.
std::vector<ShardManifest> pack_fashion_mnist(const FashionMnistPackOptions& options);

// The sample key of number `i`: 8 or more digits, "00001234".
std::string sample_key(std::uint64_t i);

}  // namespace kiln::data
