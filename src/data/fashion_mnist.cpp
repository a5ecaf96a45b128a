#include "kiln/data/fashion_mnist.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>

#include "kiln/data/error.h"
#include "kiln/data/fashion_mnist_split.h"
#include "kiln/data/idx.h"
#include "kiln/data/input_scaling.h"
#include "kiln/data/tensor_batch_loader.h"
#include "kiln/error.h"
#include "kiln/registry/partial.h"

namespace kiln::data {
namespace {

constexpr const char* kFiles[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
constexpr std::int64_t kSide = 28;
constexpr std::int64_t kClasses = 10;

std::string join(const std::string& root, const std::string& name) {
  if (root.empty()) return name;
  return root.back() == '/' ? root + name : root + "/" + name;
}

// Stats the four files; throws one IoError naming every missing one.
std::vector<DataFile> stat_files(const std::string& root) {
  std::vector<DataFile> found;
  std::vector<std::string> missing;
  for (const char* name : kFiles) {
    const std::string path = join(root, name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      found.push_back(DataFile{path, static_cast<std::uint64_t>(st.st_size)});
    } else if (errno == ENOENT || errno == ENOTDIR) {
      missing.push_back(path);
    } else {
      // There but not reachable (permissions): load_idx says why.
      found.push_back(DataFile{path, 0});
    }
  }
  if (missing.empty()) return found;
  std::string list;
  for (const auto& path : missing) list += "\n  " + path;
  throw kiln::IoError("Fashion-MNIST not found under data.root '" + root + "': missing " +
                      (missing.size() == 1 ? "file" : std::to_string(missing.size()) + " files") + ":" + list +
                      "\n  hint: install Debian's package with `apt-get install dataset-fashion-mnist`, or set "
                      "data.root to the directory holding the four *-ubyte.gz files");
}

// 1, 0.353, 1e-09: as a user would write it (std::to_string gives 1.000000).
std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string shape_of(const torch::Tensor& t) {
  std::string out = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

// Images uint8 [N, 28, 28] and labels uint8 [N] in 0..9, as the pair of
// files of one split.
void check_split(const std::string& images_path, const torch::Tensor& images, const std::string& labels_path,
                 const torch::Tensor& labels) {
  if (images.scalar_type() != torch::kUInt8 || images.dim() != 3 || images.size(1) != kSide ||
      images.size(2) != kSide) {
    throw DataFormatError("'" + images_path + "': expected unsigned-byte images of shape [N, 28, 28], found " +
                          std::string(c10::toString(images.scalar_type())) + " " + shape_of(images));
  }
  if (labels.scalar_type() != torch::kUInt8 || labels.dim() != 1 || labels.size(0) != images.size(0)) {
    throw DataFormatError("'" + labels_path + "': expected " + std::to_string(images.size(0)) +
                          " unsigned-byte labels (one per image in '" + images_path + "'), found " +
                          std::string(c10::toString(labels.scalar_type())) + " " + shape_of(labels));
  }
  if (labels.numel() > 0) {
    const auto top = labels.max().item<std::int64_t>();
    if (top >= kClasses) {
      throw DataFormatError("'" + labels_path + "': expected labels in 0..9, found " + std::to_string(top));
    }
  }
}

}  // namespace

config::Schema<FashionMnistOptions> fashion_mnist_schema() {
  using O = FashionMnistOptions;
  config::Schema<O> s("fashion_mnist", {.doc = "Fashion-MNIST: 28x28 grey images of clothing, 10 classes"});
  s.field("root", &O::root).doc("directory holding the four *-ubyte.gz IDX files");
  s.field("batch_size", &O::batch_size).doc("training examples per batch").min(1);
  s.field("val_fraction", &O::val_fraction)
      .doc("fraction of the 60k training images held out for validation")
      .range(0.0, 1.0);
  s.field("seed", &O::seed).doc("seeds the validation split and the training order");
  s.field("shuffle", &O::shuffle).doc("shuffle the training set each epoch");
  s.field("num_workers", &O::num_workers).doc("batches prefetched by a background thread (0: none)").min(0);
  s.field("normalize", &O::normalize).doc("normalize pixels to (x / 255 - mean) / std");
  s.field("mean", &O::mean).doc("pixel mean used by normalize");
  s.field("std", &O::stddev).doc("pixel standard deviation used by normalize; > 0");
  s.field("drop_last", &O::drop_last).doc("drop the last, smaller training batch");
  s.field("eval_batch_size", &O::eval_batch_size).doc("examples per validation and test batch").min(1);
  return s;
}

FashionMnistDataModule::FashionMnistDataModule(FashionMnistOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.batch_size < 1)
    throw InvalidParam("batch_size", "batch_size must be >= 1, found " + std::to_string(o.batch_size));
  if (o.eval_batch_size < 1) {
    throw InvalidParam("eval_batch_size", "eval_batch_size must be >= 1, found " + std::to_string(o.eval_batch_size));
  }
  if (!(o.val_fraction >= 0.0 && o.val_fraction < 1.0)) {
    throw InvalidParam(
        "val_fraction",
        "val_fraction must be in [0, 1) so that some images are left to train on, found " + number(o.val_fraction),
        "use 0 for no validation set");
  }
  if (o.num_workers < 0) {
    throw InvalidParam("num_workers", "num_workers must be >= 0, found " + std::to_string(o.num_workers));
  }
  if (!(o.stddev > 0.0) || !std::isfinite(o.stddev)) {
    throw InvalidParam("std", "std must be a finite number > 0, found " + number(o.stddev));
  }
}

void FashionMnistDataModule::setup() {
  if (ready_) return;
  const std::vector<DataFile> paths = stat_files(options_.root);
  torch::Tensor train_images = load_idx(paths[0].path);
  torch::Tensor train_labels = load_idx(paths[1].path);
  torch::Tensor test_images = load_idx(paths[2].path);
  torch::Tensor test_labels = load_idx(paths[3].path);
  check_split(paths[0].path, train_images, paths[1].path, train_labels);
  check_split(paths[2].path, test_images, paths[3].path, test_labels);
  train_images = train_images.unsqueeze(1);
  test_images = test_images.unsqueeze(1);
  train_labels = train_labels.to(torch::kLong);
  test_labels = test_labels.to(torch::kLong);

  const TrainValSplit split =
      split_train_val(static_cast<std::size_t>(train_images.size(0)), options_.val_fraction, options_.seed);
  const torch::Tensor val_index = torch::tensor(split.val, torch::kLong);
  const torch::Tensor train_index = torch::tensor(split.train, torch::kLong);
  train_ = Split{train_images.index_select(0, train_index), train_labels.index_select(0, train_index)};
  val_ = Split{train_images.index_select(0, val_index), train_labels.index_select(0, val_index)};
  test_ = Split{test_images, test_labels};
  ready_ = true;
}

std::unique_ptr<BatchLoader> FashionMnistDataModule::make_loader(const Split& split, std::int64_t batch_size,
                                                                 bool train, bool shuffle) const {
  TensorBatchLoaderOptions o;
  o.batch_size = static_cast<std::size_t>(batch_size);
  o.shuffle = shuffle;
  o.seed = options_.seed;
  o.drop_last = train && options_.drop_last;
  o.prefetch = static_cast<std::size_t>(options_.num_workers);
  if (train) {
    o.num_replicas = num_replicas_;
    o.rank = replica_rank_;
  }
  // Pixels to float32 in one pass on the loader's thread (input_scaling.h).
  const InputScaling scaling = InputScaling::of(255.0, options_.normalize, options_.mean, options_.stddev);
  o.transform = [scaling](Batch batch) { return Batch{scale_to_float(batch.input, scaling), std::move(batch.target)}; };
  return std::make_unique<TensorBatchLoader>(split.images, split.labels, std::move(o));
}

std::unique_ptr<BatchLoader> FashionMnistDataModule::train_loader() {
  setup();
  return make_loader(train_, options_.batch_size, true, options_.shuffle);
}

std::unique_ptr<BatchLoader> FashionMnistDataModule::sequential_train_loader() {
  setup();
  return make_loader(train_, options_.batch_size, true, false);
}

std::unique_ptr<BatchLoader> FashionMnistDataModule::val_loader() {
  setup();
  if (val_.images.size(0) == 0) return nullptr;
  return make_loader(val_, options_.eval_batch_size, false, false);
}

std::unique_ptr<BatchLoader> FashionMnistDataModule::test_loader() {
  setup();
  return make_loader(test_, options_.eval_batch_size, false, false);
}

std::unique_ptr<BatchLoader> FashionMnistDataModule::predict_loader() { return test_loader(); }

std::vector<DataFile> FashionMnistDataModule::files() const { return stat_files(options_.root); }

}  // namespace kiln::data
