// overfit_batches, predict, precision (bf16-mixed on CPU, 16-mixed and
// accelerators), and the module kind built from config.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"
#include "kiln/train/classification.h"
#include "kiln/train/job.h"
#include "kiln/train/module_kind.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {

// Batches in order, each tagged by its first example index (input[:, 0]
// of column `tag`), shuffled per epoch unless sequential.
class TaggedLoader final : public data::BatchLoader {
 public:
  TaggedLoader(torch::Tensor x, torch::Tensor y, std::int64_t batch, bool shuffle)
      : x_(x), y_(y), batch_(batch), shuffle_(shuffle) {}
  std::size_t size() const override { return static_cast<std::size_t>((x_.size(0) + batch_ - 1) / batch_); }
  std::size_t num_samples() const override { return static_cast<std::size_t>(x_.size(0)); }
  void start_epoch(std::int64_t epoch, std::size_t start_batch) override {
    next_ = static_cast<std::int64_t>(start_batch);
    order_ = shuffle_ ? torch::randperm(x_.size(0), torch::make_generator<at::CPUGeneratorImpl>(100 + epoch))
                      : torch::arange(x_.size(0));
  }
  std::optional<data::Batch> next() override {
    if (!order_.defined()) start_epoch(0, 0);
    if (next_ >= static_cast<std::int64_t>(size())) return std::nullopt;
    std::int64_t begin = next_++ * batch_;
    torch::Tensor index = order_.slice(0, begin, std::min(begin + batch_, x_.size(0)));
    return data::Batch{x_.index_select(0, index), y_.index_select(0, index)};
  }

 private:
  torch::Tensor x_, y_, order_;
  std::int64_t batch_;
  bool shuffle_;
  std::int64_t next_ = 0;
};

// Two Gaussian blobs in 8 dimensions, 3 classes' worth of outputs.
class Blobs : public data::DataModule {
 public:
  explicit Blobs(std::int64_t n = 256, std::int64_t batch = 16) : batch_(batch) {
    auto gen = torch::make_generator<at::CPUGeneratorImpl>(7);
    y_ = torch::randint(0, 2, {n}, gen, torch::kLong);
    x_ = torch::randn({n, 8}, gen) + (y_.to(torch::kFloat) * 3 - 1.5).unsqueeze(1);
  }
  std::unique_ptr<data::BatchLoader> train_loader() override {
    return std::make_unique<TaggedLoader>(x_, y_, batch_, true);
  }
  std::unique_ptr<data::BatchLoader> sequential_train_loader() override {
    return std::make_unique<TaggedLoader>(x_, y_, batch_, false);
  }
  std::unique_ptr<data::BatchLoader> val_loader() override { return std::make_unique<TaggedLoader>(x_, y_, 64, false); }
  std::unique_ptr<data::BatchLoader> test_loader() override {
    return std::make_unique<TaggedLoader>(x_, y_, 64, false);
  }
  std::unique_ptr<data::BatchLoader> predict_loader() override {
    return std::make_unique<TaggedLoader>(x_, y_, 100, false);
  }
  torch::Tensor x_, y_;

 private:
  std::int64_t batch_;
};

// Blobs without a predict loader.
class NoPredict final : public Blobs {
 public:
  std::unique_ptr<data::BatchLoader> predict_loader() override { return nullptr; }
};

class Net final : public models::Network {
 public:
  Net() { fc = register_module("fc", torch::nn::Linear(8, 3)); }
  torch::Tensor forward(const torch::Tensor& x) override { return fc->forward(x); }
  torch::nn::Linear fc{nullptr};
};

// Records what each training step saw.
class Recorder final : public Module {
 public:
  Recorder() { fc = register_module("fc", torch::nn::Linear(8, 3)); }
  torch::Tensor training_step(const data::Batch& b, std::int64_t) override {
    seen.push_back(b.input.select(1, 0).sum().item<double>());
    torch::Tensor logits = fc->forward(b.input);
    logits_dtype = logits.scalar_type();
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, b.target);
    loss_dtype = loss.scalar_type();
    losses.push_back(loss.item<double>());
    log("train/loss", loss, b.target.size(0));
    return loss;
  }
  void validation_step(const data::Batch& b, std::int64_t) override {
    ++val_batches;
    log("val/loss", torch::nn::functional::cross_entropy(fc->forward(b.input), b.target));
  }
  torch::Tensor predict_step(const data::Batch& b, std::int64_t) override { return fc->forward(b.input); }
  torch::nn::Linear fc{nullptr};
  std::vector<double> seen, losses;
  std::int64_t val_batches = 0;
  torch::ScalarType logits_dtype = torch::kFloat, loss_dtype = torch::kFloat;
};

TrainerOptions quiet(TrainerOptions o = {}) {
  o.num_sanity_val_steps = 0;
  o.num_threads = 1;
  return o;
}

Trainer make_trainer(TrainerOptions o, double lr = 0.1) {
  Trainer trainer(o);
  trainer.set_optimizer_factory([lr](std::vector<torch::Tensor> p) {
    return std::make_shared<torch::optim::SGD>(p, torch::optim::SGDOptions(lr));
  });
  return trainer;
}

config::Node yaml(const std::string& text) { return config::load_yaml(text, "test.yaml").root; }

// --- float32_matmul_precision ---

TEST(Float32MatmulPrecision, FitSetsItAndNullLeavesItAlone) {
  at::globalContext().setFloat32MatmulPrecision("highest");
  Recorder module;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_steps = 1;
  make_trainer(o).fit(module, data);
  EXPECT_EQ(at::globalContext().float32MatmulPrecision(), at::Float32MatmulPrecision::HIGHEST);
  o.float32_matmul_precision = "high";
  Recorder again;
  make_trainer(o).fit(again, data);
  EXPECT_EQ(at::globalContext().float32MatmulPrecision(), at::Float32MatmulPrecision::HIGH);
  at::globalContext().setFloat32MatmulPrecision("highest");
  // The schema takes PyTorch's three names only.
  EXPECT_THROW(trainer_options_schema().bind(yaml("float32_matmul_precision: tf32\n"), {"trainer"}),
               config::ConfigError);
}

// --- overfit_batches ---

TEST(OverfitBatches, TrainsOnTheSameFirstBatchesEveryEpochUnshuffled) {
  seed_everything(1);
  Recorder module;
  Blobs data;  // 16 batches of 16
  TrainerOptions o = quiet();
  o.max_epochs = 3;
  o.overfit_batches = 2;
  Trainer trainer = make_trainer(o);
  trainer.fit(module, data);
  ASSERT_EQ(module.seen.size(), 6u);
  EXPECT_EQ(trainer.global_step(), 6);
  for (int epoch = 1; epoch < 3; ++epoch) {
    EXPECT_EQ(module.seen[epoch * 2], module.seen[0]);
    EXPECT_EQ(module.seen[epoch * 2 + 1], module.seen[1]);
  }
  // The first two batches in data order: not the shuffled loader's.
  EXPECT_DOUBLE_EQ(module.seen[0], data.x_.slice(0, 0, 16).select(1, 0).sum().item<double>());
  EXPECT_EQ(module.val_batches, 3 * 2) << "validation runs on overfit_batches val batches";
}

TEST(OverfitBatches, AFractionOfTheBatchesAndTheModelOverfitsThem) {
  seed_everything(2);
  Recorder module;
  Blobs data(256, 32);  // 8 batches
  TrainerOptions o = quiet();
  o.max_epochs = 60;
  o.overfit_batches = 0.125;  // one batch
  Trainer trainer = make_trainer(o, 0.5);
  trainer.fit(module, data);
  EXPECT_EQ(trainer.global_step(), 60);
  std::set<double> distinct(module.seen.begin(), module.seen.end());
  EXPECT_EQ(distinct.size(), 1u);
  EXPECT_LT(module.losses.back(), module.losses.front() * 0.05) << "the one batch is memorised";
}

TEST(OverfitBatches, WithoutASequentialLoaderRepeatsEpochZerosBatches) {
  class ShuffledOnly final : public Blobs {
   public:
    std::unique_ptr<data::BatchLoader> sequential_train_loader() override { return nullptr; }
  };
  Recorder module;
  ShuffledOnly data;
  TrainerOptions o = quiet();
  o.max_epochs = 2;
  o.overfit_batches = 3;
  make_trainer(o).fit(module, data);
  ASSERT_EQ(module.seen.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(module.seen[3 + i], module.seen[i]);
}

// --- predict ---

TEST(Predict, ReturnsEachBatchsOutputInOrderWithoutGradients) {
  Recorder module;
  Blobs data;  // predict loader: 100, 100, 56
  Trainer trainer(quiet());
  std::vector<torch::Tensor> out = trainer.predict(module, data);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].sizes(), (std::vector<std::int64_t>{100, 3}));
  EXPECT_EQ(out[2].size(0), 56);
  EXPECT_FALSE(out[0].requires_grad());
  EXPECT_TRUE(torch::equal(torch::cat(out), module.fc->forward(data.x_).detach()));
  EXPECT_TRUE(module.is_training()) << "predict restores the module's mode";
}

TEST(Predict, LimitPredictBatches) {
  Recorder module;
  Blobs data;
  TrainerOptions o = quiet();
  o.limit_predict_batches = 2;
  EXPECT_EQ(Trainer(o).predict(module, data).size(), 2u);
}

TEST(Predict, NoPredictLoaderIsAnErrorNamingTheDataModule) {
  Recorder module;
  NoPredict data;
  try {
    Trainer(quiet()).predict(module, data);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NoPredict"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("predict_loader"), std::string::npos) << e.what();
  }
}

TEST(Predict, ClassificationModuleGivesClassProbabilities) {
  ClassificationModule module(std::make_shared<Net>());
  Blobs data;
  std::vector<torch::Tensor> out = Trainer(quiet()).predict(module, data);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(torch::allclose(out[0].sum(1), torch::ones({100})));
  EXPECT_TRUE((out[0] >= 0).all().item<bool>());
}

// --- the module kind, losses and metrics in ClassificationModule ---

TEST(ModuleKind, ClassificationLogsItsMetricsUnderTheirNames) {
  register_builtin_factories();
  seed_everything(3);
  auto module = instantiate<Module>(yaml("_target_: classification\n"
                                         "loss: {_target_: cross_entropy, label_smoothing: 0.05}\n"
                                         "metrics:\n"
                                         "  acc: {_target_: accuracy}\n"
                                         "  top2_acc: {_target_: top_k_accuracy, k: 2}\n"),
                                    std::make_shared<Net>());
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 2;
  Trainer trainer = make_trainer(o);
  trainer.fit(*module, data);
  Metrics test = trainer.test(*module, data);
  EXPECT_GT(test.at("test/acc"), 0.9);
  EXPECT_DOUBLE_EQ(test.at("test/top2_acc"), 1.0) << "the true class is always among 2 of 3 for a learnt blob";
  EXPECT_TRUE(trainer.callback_metrics().count("val/top2_acc"));
  EXPECT_TRUE(trainer.callback_metrics().count("train/acc"));
  EXPECT_TRUE(test.count("test/loss"));
}

TEST(ModuleKind, AccuracyMetricMatchesTheHandComputedOne) {
  register_builtin_factories();
  seed_everything(4);
  ClassificationModule module(std::make_shared<Net>());
  Blobs data;
  Metrics test = Trainer(quiet()).test(module, data);
  torch::NoGradGuard no_grad;
  double expected = (module.network().forward(data.x_).argmax(1) == data.y_).to(torch::kDouble).mean().item<double>();
  EXPECT_DOUBLE_EQ(test.at("test/acc"), expected);
}

TEST(ModuleKind, BadLossOrMetricIsAConfigErrorAtItsKey) {
  register_builtin_factories();
  config::Node root = yaml("module:\n  _target_: classification\n  metrics:\n    acc: {_target_: acuracy}\n");
  try {
    instantiate_at<Module>(root, {"module"}, std::make_shared<Net>());
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].key, "module.metrics.acc._target_") << e.what();
  }
  EXPECT_THROW(instantiate_at<Module>(yaml("module:\n  _target_: classification\n  loss: {_target_: hinge}\n"),
                                      {"module"}, std::make_shared<Net>()),
               config::ConfigError);
}

// A user's own Module, registered under a name and selected by config.
struct TwiceOptions {
  double factor = 2.0;
};
class Twice final : public Module {
 public:
  Twice(std::shared_ptr<models::Network> net, double factor) : net_(register_module("net", net)), factor_(factor) {}
  torch::Tensor training_step(const data::Batch& b, std::int64_t) override {
    return factor_ * torch::nn::functional::cross_entropy(net_->forward(b.input), b.target);
  }
  std::shared_ptr<models::Network> net_;
  double factor_;
};
config::Schema<TwiceOptions> twice_schema() {
  config::Schema<TwiceOptions> s("twice", {.doc = "cross-entropy times a factor"});
  s.field("factor", &TwiceOptions::factor).doc("loss multiplier");
  return s;
}
KILN_REGISTER(Module, "twice_test_module", twice_schema(),
              [](const TwiceOptions& o, std::shared_ptr<models::Network> net) -> std::shared_ptr<Module> {
                return std::make_shared<Twice>(std::move(net), o.factor);
              });

TEST(ModuleKind, UsersRegisterTheirOwnModule) {
  auto module = instantiate<Module>(yaml("{_target_: twice_test_module, factor: 3.0}"), std::make_shared<Net>());
  auto* twice = dynamic_cast<Twice*>(module.get());
  ASSERT_NE(twice, nullptr);
  EXPECT_EQ(twice->factor_, 3.0);
}

// --- precision and accelerators ---

TEST(Precision, Bf16MixedAutocastsLinearOnCpuAndRestoresTheState) {
  torch::nn::Linear linear(4, 2);
  torch::Tensor x = torch::randn({3, 4});
  {
    train::AutocastGuard guard(train::Precision::kBf16Mixed, torch::kCPU);
    EXPECT_EQ(linear->forward(x).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(linear->forward(x).scalar_type(), torch::kFloat);
  {
    train::AutocastGuard guard(train::Precision::k32, torch::kCPU);
    EXPECT_EQ(linear->forward(x).scalar_type(), torch::kFloat);
  }
  EXPECT_EQ(linear->weight.scalar_type(), torch::kFloat);
}

TEST(Precision, Bf16MixedFitKeepsLossGradsAndWeightsFp32AndLearns) {
  seed_everything(5);
  Recorder module;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 3;
  o.precision = "bf16-mixed";
  Trainer trainer = make_trainer(o);
  trainer.fit(module, data);
  EXPECT_EQ(module.logits_dtype, torch::kBFloat16);
  EXPECT_EQ(module.loss_dtype, torch::kFloat);
  EXPECT_EQ(module.fc->weight.scalar_type(), torch::kFloat);
  ASSERT_TRUE(module.fc->weight.grad().defined());
  EXPECT_EQ(module.fc->weight.grad().scalar_type(), torch::kFloat);
  EXPECT_LT(module.losses.back(), 0.2);
  EXPECT_LT(module.losses.back(), module.losses.front());
}

TEST(Precision, Bf16MixedRunIsBitwiseRepeatable) {
  auto run = [] {
    seed_everything(6);
    ClassificationModule module(std::make_shared<Net>());
    Blobs data;
    TrainerOptions o = quiet();
    o.max_epochs = 2;
    o.precision = "bf16-mixed";
    make_trainer(o).fit(module, data);
    return dynamic_cast<Net&>(module.network()).fc->weight.clone();
  };
  torch::Tensor a = run();
  torch::Tensor b = run();
  EXPECT_TRUE(torch::equal(a, b));
}

// Constructing a Trainer with `o` is a config error at `key` whose text
// holds each of `phrases`.
void expect_trainer_config_error(const TrainerOptions& o, const std::string& key,
                                 const std::vector<std::string>& phrases) {
  try {
    Trainer{o};
    FAIL() << "the options were accepted; expected an error at " << key;
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].key, key);
    const std::string text = e.what();
    for (const std::string& phrase : phrases) EXPECT_NE(text.find(phrase), std::string::npos) << text;
  }
}

TEST(Precision, SixteenMixedOnCpuIsAConfigErrorSuggestingBf16) {
  TrainerOptions o;
  o.precision = "16-mixed";
  o.accelerator = "cpu";
  expect_trainer_config_error(o, "trainer.precision", {"needs CUDA", "bf16-mixed"});
}

TEST(ProcessGroupBackend, NcclOnCpuIsAConfigErrorNamingTheKey) {
  TrainerOptions o;
  o.process_group_backend = "nccl";
  o.accelerator = "cpu";
  expect_trainer_config_error(o, "trainer.process_group_backend",
                              {"'nccl' runs collectives on CUDA devices", "use gloo"});
}

TEST(ProcessGroupBackend, AnUnknownBackendIsRefusedByTheSchema) {
  try {
    trainer_options_schema().bind(yaml("process_group_backend: mpi\n"), {"trainer"});
    FAIL() << "mpi was accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].key, "trainer.process_group_backend");
    EXPECT_NE(std::string(e.what()).find("gloo"), std::string::npos) << e.what();
  }
}

TEST(Accelerator, AutoPicksCudaOnlyWhenAvailable) {
  TrainerOptions o;
  o.accelerator = "auto";
  Trainer trainer(o);
  EXPECT_EQ(trainer.device().is_cuda(), torch::cuda::is_available());
}

TEST(Accelerator, CudaWithoutADeviceIsAConfigError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is available; this checks the CPU-only refusal";
  TrainerOptions o;
  o.accelerator = "cuda";
  expect_trainer_config_error(o, "trainer.accelerator", {"no CUDA device"});
}

TEST(GpuTrainer, CudaFitMovesModuleAndBatchesToTheDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device (none in this build machine)";
  seed_everything(7);
  ClassificationModule module(std::make_shared<Net>());
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 2;
  o.accelerator = "cuda";
  Trainer trainer = make_trainer(o);
  trainer.fit(module, data);
  EXPECT_TRUE(module.network().parameters()[0].is_cuda());
  EXPECT_GT(trainer.test(module, data).at("test/acc"), 0.9);
  EXPECT_TRUE(trainer.predict(module, data)[0].is_cuda());
}

TEST(GpuTrainer, SixteenMixedFitUsesTheGradScalerAndLearns) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device (none in this build machine)";
  seed_everything(8);
  Recorder module;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 3;
  o.accelerator = "cuda";
  o.precision = "16-mixed";
  Trainer trainer = make_trainer(o);
  trainer.fit(module, data);
  ASSERT_NE(trainer.grad_scaler(), nullptr);
  EXPECT_EQ(module.logits_dtype, torch::kHalf);
  EXPECT_EQ(module.fc->weight.scalar_type(), torch::kFloat);
  EXPECT_LT(module.losses.back(), module.losses.front());
}

TEST(GpuTrainer, SixteenMixedCheckpointRestoresTheGradScaler) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device (none in this build machine)";
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("kiln_scaler_" + std::to_string(::getpid()));
  fs::remove_all(root);
  TrainerOptions o = quiet();
  o.max_epochs = 1;
  o.accelerator = "cuda";
  o.precision = "16-mixed";
  seed_everything(10);
  Recorder first;
  Blobs data;
  Trainer a = make_trainer(o);
  a.set_checkpoint_root(root);
  a.fit(first, data);
  Recorder second;
  o.max_epochs = 2;
  o.resume = "last";
  // What the resumed fit starts from (on_fit_start runs after the resume).
  struct AtStart final : Callback {
    void on_fit_start(Trainer& trainer, Module&) override { state = trainer.grad_scaler()->state(); }
    GradScaler::State state{-1.0, -1};
  };
  auto at_start = std::make_shared<AtStart>();
  Trainer b = make_trainer(o);
  b.set_checkpoint_root(root);
  b.add_callback(at_start);
  b.fit(second, data);
  EXPECT_EQ(at_start->state.scale, a.grad_scaler()->get_scale());
  EXPECT_EQ(at_start->state.growth_tracker, a.grad_scaler()->growth_tracker());
  fs::remove_all(root);
}

TEST(GpuTrainer, Bf16MixedOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device (none in this build machine)";
  seed_everything(9);
  Recorder module;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 2;
  o.accelerator = "cuda";
  o.precision = "bf16-mixed";
  make_trainer(o).fit(module, data);
  EXPECT_EQ(module.logits_dtype, torch::kBFloat16);
  EXPECT_LT(module.losses.back(), module.losses.front());
}

}  // namespace
}  // namespace kiln
