#include "kiln/data/pack.h"

#include <cstdio>
#include <optional>

#include "kiln/data/error.h"
#include "kiln/data/fashion_mnist_split.h"
#include "kiln/data/idx_file.h"
#include "kiln/data/npy.h"
#include "kiln/data/shard_writer.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

constexpr std::int64_t kSide = 28;

struct Images {
  IdxArray images, labels;
};

Images read_pair(const std::filesystem::path& root, const char* images, const char* labels) {
  Images out{read_idx_file((root / images).string()), read_idx_file((root / labels).string())};
  const auto& d = out.images.dims;
  if (out.images.type_code != 0x08 || d.size() != 3 || d[1] != kSide || d[2] != kSide)
    throw DataFormatError("'" + (root / images).string() + "': expected unsigned-byte images of shape [N, 28, 28]");
  if (out.labels.type_code != 0x08 || out.labels.dims.size() != 1 || out.labels.dims[0] != d[0])
    throw DataFormatError("'" + (root / labels).string() + "': expected " + std::to_string(d[0]) +
                          " unsigned-byte labels, one per image");
  return out;
}

ShardManifest write_split(const Images& source, const std::vector<std::int64_t>& which,
                          const FashionMnistPackOptions& o, const std::string& name) {
  ShardWriter writer({.dir = o.out, .name = name, .max_shard_bytes = o.shard_bytes});
  constexpr std::size_t kPixels = kSide * kSide;
  for (std::size_t i = 0; i < which.size(); ++i) {
    const auto image = static_cast<std::size_t>(which[i]);
    const std::string npy =
        encode_npy(NpyDtype::kUInt8, {1, kSide, kSide}, source.images.data.data() + image * kPixels, kPixels);
    writer.write(
        {.key = sample_key(i), .fields = {{"cls", std::to_string(source.labels.data[image])}, {"input.npy", npy}}});
  }
  return writer.finish();
}

std::vector<std::int64_t> all(std::size_t n) {
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int64_t>(i);
  return out;
}

}  // namespace

std::string sample_key(std::uint64_t i) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%08llu", static_cast<unsigned long long>(i));
  return digits;
}

std::vector<ShardManifest> pack_fashion_mnist(const FashionMnistPackOptions& o) {
  for (const std::string& split : o.splits) {
    if (split != "train" && split != "val" && split != "test")
      throw kiln::UsageError("unknown split '" + split + "' (expected train, val or test)");
  }
  if (!(o.val_fraction >= 0.0 && o.val_fraction < 1.0))
    throw kiln::UsageError("val_fraction must be in [0, 1), found " + std::to_string(o.val_fraction));
  std::vector<ShardManifest> out;
  std::optional<Images> train, test;
  for (const std::string& split : o.splits) {
    if (split == "test") {
      if (!test) test = read_pair(o.root, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
      out.push_back(write_split(*test, all(static_cast<std::size_t>(test->images.dims[0])), o, split));
      continue;
    }
    if (!train) train = read_pair(o.root, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
    const TrainValSplit parts =
        split_train_val(static_cast<std::size_t>(train->images.dims[0]), o.val_fraction, o.seed);
    out.push_back(write_split(*train, split == "train" ? parts.train : parts.val, o, split));
  }
  return out;
}

}  // namespace kiln::data
