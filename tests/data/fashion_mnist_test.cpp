// Tests for FashionMnistDataModule on Debian's dataset-fashion-mnist files,
// and for building it from config through the datamodule registry.
#include "kiln/data/fashion_mnist.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "kiln/config/error.h"
#include "kiln/config/resolve.h"
#include "kiln/config/yaml.h"
#include "kiln/data/builtin_datamodules.h"
#include "kiln/registry/kind.h"

namespace kiln::data {
namespace {

const std::string kRoot = FashionMnistOptions{}.root;

bool installed() {
  struct stat st {};
  return ::stat((kRoot + "/train-images-idx3-ubyte.gz").c_str(), &st) == 0 &&
         ::stat((kRoot + "/t10k-labels-idx1-ubyte.gz").c_str(), &st) == 0;
}

#define SKIP_WITHOUT_FASHION_MNIST()                                                                 \
  if (!installed())                                                                                  \
  GTEST_SKIP() << "Fashion-MNIST is not installed under " << kRoot                                   \
               << " (apt-get install dataset-fashion-mnist); the data module's tests on real files " \
                  "need it"

// Reading the files takes about a second, so tests with the default options
// (but no prefetch thread) share one module.
FashionMnistDataModule& shared_module() {
  static FashionMnistDataModule* dm = [] {
    auto* m = new FashionMnistDataModule({.num_workers = 0});
    m->setup();
    return m;
  }();
  return *dm;
}

config::Node yaml(const std::string& text) { return config::load_yaml(text, "test.yaml").root; }

std::size_t count_samples(BatchLoader& loader) {
  std::size_t n = 0;
  loader.start_epoch(0);
  while (auto b = loader.next()) n += static_cast<std::size_t>(b->target.size(0));
  return n;
}

TEST(FashionMnist, SplitsSixtyThousandIntoTrainAndValidation) {
  SKIP_WITHOUT_FASHION_MNIST();
  FashionMnistDataModule& dm = shared_module();
  dm.setup();  // idempotent
  auto train = dm.train_loader();
  auto val = dm.val_loader();
  auto test = dm.test_loader();
  ASSERT_TRUE(train && val && test);
  EXPECT_EQ(train->num_samples(), 54000u);
  EXPECT_EQ(val->num_samples(), 6000u);
  EXPECT_EQ(test->num_samples(), 10000u);
  EXPECT_EQ(train->size(), 422u);  // ceil(54000 / 128)
  EXPECT_EQ(val->size(), 6u);
  EXPECT_EQ(test->size(), 10u);
  EXPECT_EQ(count_samples(*val), 6000u);
}

TEST(FashionMnist, PredictLoaderIsTheTestSplit) {
  SKIP_WITHOUT_FASHION_MNIST();
  auto predict = shared_module().predict_loader();
  auto test = shared_module().test_loader();
  ASSERT_TRUE(predict);
  EXPECT_EQ(predict->num_samples(), 10000u);
  EXPECT_TRUE(predict->next()->input.equal(test->next()->input));
}

TEST(FashionMnist, SequentialTrainLoaderGivesTheSameUnshuffledBatchesEveryEpoch) {
  SKIP_WITHOUT_FASHION_MNIST();
  auto sequential = shared_module().sequential_train_loader();
  auto shuffled = shared_module().train_loader();
  ASSERT_TRUE(sequential);
  EXPECT_EQ(sequential->size(), shuffled->size());
  sequential->start_epoch(0);
  const Batch epoch0 = *sequential->next();
  sequential->start_epoch(5);
  EXPECT_TRUE(sequential->next()->target.equal(epoch0.target));
  shuffled->start_epoch(0);
  EXPECT_FALSE(shuffled->next()->target.equal(epoch0.target)) << "train_loader shuffles, this one does not";
}

TEST(FashionMnist, BatchesAreNormalizedFloatImagesAndLabelsInRange) {
  SKIP_WITHOUT_FASHION_MNIST();
  auto test = shared_module().test_loader();
  test->start_epoch(0);
  auto b = test->next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->input.scalar_type(), torch::kFloat32);
  EXPECT_EQ(b->input.sizes(), torch::IntArrayRef({1000, 1, 28, 28}));
  EXPECT_EQ(b->target.scalar_type(), torch::kInt64);
  EXPECT_EQ(b->target.sizes(), torch::IntArrayRef({1000}));
  // The first t10k label is 9 (ankle boot), the second 2 (pullover).
  EXPECT_EQ(b->target[0].item<std::int64_t>(), 9);
  EXPECT_EQ(b->target[1].item<std::int64_t>(), 2);
  // A pixel of 0 becomes -mean/std.
  EXPECT_NEAR(b->input.min().item<float>(), -0.2860 / 0.3530, 1e-5);
  EXPECT_NEAR(b->input.max().item<float>(), (1 - 0.2860) / 0.3530, 1e-5);

  FashionMnistDataModule raw({.num_workers = 0, .normalize = false});
  auto raw_test = raw.test_loader();
  auto rb = raw_test->next();
  EXPECT_EQ(rb->input.min().item<float>(), 0.0f);
  EXPECT_EQ(rb->input.max().item<float>(), 1.0f);
  // Normalizing is bitwise the tensor ops on the scaled pixels.
  EXPECT_TRUE(torch::equal(b->input, rb->input.sub(0.2860).div(0.3530)));
}

// One full training epoch per prefetch depth: the same batches, the expected
// statistics, and the time each took (printed, for the data layer's report).
TEST(FashionMnist, FullTrainEpochIsTheSameWithAndWithoutPrefetch) {
  SKIP_WITHOUT_FASHION_MNIST();
  std::vector<double> checksums;
  FashionMnistDataModule with_workers({.num_workers = 2});
  for (std::int64_t workers : {0, 2}) {
    auto train = (workers == 0 ? shared_module() : with_workers).train_loader();
    train->start_epoch(1);
    double sum = 0, sum_sq = 0, weighted = 0;
    std::int64_t pixels = 0, samples = 0, batches = 0, min_label = 99, max_label = -1;
    const auto start = std::chrono::steady_clock::now();
    while (auto b = train->next()) {
      sum += b->input.sum().item<double>();
      sum_sq += b->input.square().sum().item<double>();
      weighted += (b->input.mean({1, 2, 3}).to(torch::kDouble) * (b->target + 1)).sum().item<double>();
      pixels += b->input.numel();
      samples += b->target.size(0);
      min_label = std::min(min_label, b->target.min().item<std::int64_t>());
      max_label = std::max(max_label, b->target.max().item<std::int64_t>());
      ++batches;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ timing ] Fashion-MNIST train epoch, batch 128, num_workers %lld: %.3f s (%lld batches)\n",
                static_cast<long long>(workers), seconds, static_cast<long long>(batches));
    RecordProperty("epoch_seconds_workers_" + std::to_string(workers), std::to_string(seconds));
    EXPECT_EQ(samples, 54000);
    EXPECT_EQ(batches, 422);
    EXPECT_EQ(min_label, 0);
    EXPECT_EQ(max_label, 9);
    const double mean = sum / static_cast<double>(pixels);
    const double stddev = std::sqrt(sum_sq / static_cast<double>(pixels) - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.01);
    EXPECT_NEAR(stddev, 1.0, 0.01);
    checksums.push_back(weighted);
  }
  EXPECT_EQ(checksums[0], checksums[1]) << "the same order and content with and without prefetch";
}

TEST(FashionMnist, SplitAndOrderFollowTheSeed) {
  SKIP_WITHOUT_FASHION_MNIST();
  auto first_val_labels = [](std::uint64_t seed) {
    FashionMnistDataModule dm({.seed = seed, .num_workers = 0});
    auto val = dm.val_loader();
    return val->next()->target;
  };
  const torch::Tensor seed42 = shared_module().val_loader()->next()->target;
  EXPECT_TRUE(first_val_labels(42).equal(seed42));
  EXPECT_FALSE(first_val_labels(43).equal(seed42));

  auto train = shared_module().train_loader();
  auto val = shared_module().val_loader();
  train->start_epoch(0);
  const torch::Tensor epoch0 = train->next()->target;
  train->start_epoch(1);
  EXPECT_FALSE(train->next()->target.equal(epoch0)) << "train shuffles per epoch";
  val->start_epoch(0);
  const torch::Tensor val0 = val->next()->target;
  val->start_epoch(1);
  EXPECT_TRUE(val->next()->target.equal(val0)) << "validation never shuffles";
}

TEST(FashionMnist, ValFractionZeroMeansNoValidationLoader) {
  SKIP_WITHOUT_FASHION_MNIST();
  FashionMnistDataModule dm({.val_fraction = 0.0, .num_workers = 0});
  EXPECT_EQ(dm.val_loader(), nullptr);
  EXPECT_EQ(dm.train_loader()->num_samples(), 60000u);
}

TEST(FashionMnist, FilesListsTheFourFilesWithTheirSizes) {
  SKIP_WITHOUT_FASHION_MNIST();
  FashionMnistDataModule dm;
  const auto files = dm.files();
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].path, kRoot + "/train-images-idx3-ubyte.gz");
  EXPECT_EQ(files[3].path, kRoot + "/t10k-labels-idx1-ubyte.gz");
  for (const auto& f : files) {
    struct stat st {};
    ASSERT_EQ(::stat(f.path.c_str(), &st), 0);
    EXPECT_EQ(f.size, static_cast<std::uint64_t>(st.st_size)) << f.path;
  }
}

TEST(FashionMnist, MissingFilesNameThePathsAndTheFix) {
  FashionMnistDataModule dm({.root = "/nonexistent/fmnist"});
  for (int call = 0; call < 2; ++call) {
    try {
      if (call == 0)
        dm.setup();
      else
        dm.files();
      FAIL() << "expected kiln::IoError";
    } catch (const kiln::IoError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("Fashion-MNIST not found under data.root '/nonexistent/fmnist': missing 4 files:\n"
                        "  /nonexistent/fmnist/train-images-idx3-ubyte.gz\n",
                        0),
                0u)
          << m;
      EXPECT_NE(m.find("apt-get install dataset-fashion-mnist"), std::string::npos) << m;
      EXPECT_NE(m.find("or set data.root"), std::string::npos) << m;
      EXPECT_EQ(e.exit_code(), kiln::ExitCode::kIo);
    }
  }
}

// --- the datamodule registry ---

TEST(FashionMnistRegistry, ConfigInstantiatesTheModuleWithItsOptions) {
  register_builtin_datamodules();
  register_builtin_datamodules();  // idempotent
  EXPECT_EQ(kiln::registry<DataModule>().kind(), "datamodule");
  config::Node root =
      yaml("data:\n  _target_: fashion_mnist\n  batch_size: 64\n  val_fraction: 0.2\n  num_workers: 0\n  std: 0.5\n");
  std::shared_ptr<DataModule> dm = kiln::instantiate_at<DataModule>(root, {"data"});
  auto* fm = dynamic_cast<FashionMnistDataModule*>(dm.get());
  ASSERT_NE(fm, nullptr);
  EXPECT_EQ(fm->options().batch_size, 64);
  EXPECT_EQ(fm->options().val_fraction, 0.2);
  EXPECT_EQ(fm->options().num_workers, 0);
  EXPECT_EQ(fm->options().stddev, 0.5);
  EXPECT_EQ(fm->options().eval_batch_size, 1000) << "defaults for keys left out";
}

TEST(FashionMnistRegistry, ShippedConfigBindsWithTheRunSeed) {
  register_builtin_datamodules();
  config::Node root = config::Node::map();
  root.set("seed", config::Node::integer(7));
  config::Node data = config::load_yaml_file(std::string(KILN_SOURCE_DIR) + "/configs/data/fashion_mnist.yaml").root;
  // What `kiln train` does before instantiating (src/cli/dataset_binding.cpp):
  // the catalog reference becomes the dataset's local root.
  ASSERT_TRUE(data.erase("dataset"));
  data.set("root", config::Node::string("/usr/share/datasets/fashion-mnist"));
  root.set("data", std::move(data));
  std::shared_ptr<DataModule> dm = kiln::instantiate_at<DataModule>(config::resolve(root), {"data"});
  auto* fm = dynamic_cast<FashionMnistDataModule*>(dm.get());
  ASSERT_NE(fm, nullptr);
  EXPECT_EQ(fm->options().seed, 7u);
  EXPECT_EQ(fm->options().batch_size, 128);
  EXPECT_EQ(fm->options().num_workers, 2);
}

TEST(FashionMnistRegistry, TypoInAKeyGetsADidYouMean) {
  register_builtin_datamodules();
  config::Node root = yaml("data:\n  _target_: fashion_mnist\n  batch_sise: 64\n");
  try {
    kiln::instantiate_at<DataModule>(root, {"data"});
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u) << e.what();
    const config::Diagnostic& d = e.diagnostics()[0];
    EXPECT_EQ(d.key, "data.batch_sise");
    EXPECT_EQ(d.source.str(), "test.yaml:3:15");
    EXPECT_EQ(std::string(e.what()),
              "test.yaml:3:15: error: data.batch_sise: unknown key 'batch_sise' (not a field of fashion_mnist; "
              "expected one of: root, batch_size, val_fraction, seed, shuffle, num_workers, normalize, mean, std, "
              "drop_last, eval_batch_size)\n  hint: did you mean 'data.batch_size'?");
    EXPECT_EQ(d.hint, "did you mean 'data.batch_size'?");
  }
}

TEST(FashionMnistRegistry, UnknownTargetAndBadValuesAreConfigErrors) {
  register_builtin_datamodules();
  try {
    kiln::instantiate_at<DataModule>(yaml("data:\n  _target_: fashion_mnst\n"), {"data"});
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "test.yaml:2:13: error: data._target_: unknown datamodule 'fashion_mnst' (expected one of: "
              "fashion_mnist, shards, synthetic_tokens, tokens)\n  hint: did you mean 'fashion_mnist'?");
  }
  // val_fraction 1.0 passes the schema's range but leaves nothing to train on.
  try {
    kiln::instantiate_at<DataModule>(yaml("data:\n  _target_: fashion_mnist\n  val_fraction: 1.0\n"), {"data"});
    FAIL() << "expected ConfigError";
  } catch (const config::ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].key, "data.val_fraction");
    EXPECT_EQ(e.diagnostics()[0].source.str(), "test.yaml:3:17");
    EXPECT_EQ(std::string(e.what()),
              "test.yaml:3:17: error: data.val_fraction: val_fraction must be in [0, 1) so that some images are left "
              "to train on, found 1\n  hint: use 0 for no validation set");
  }
}

}  // namespace
}  // namespace kiln::data
