// The Trainer on a small synthetic problem: every option changes what the
// loop does, and these tests would notice if it stopped doing it.
#include "kiln/train/trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "kiln/config/error.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/model_checkpoint.h"

namespace kiln {
namespace {

// Two Gaussian blobs in 8 dimensions, class = which blob; batches in order
// (the shuffling loaders have their own tests in tests/data).
class BlobLoader final : public data::BatchLoader {
 public:
  BlobLoader(torch::Tensor x, torch::Tensor y, std::int64_t batch) : x_(x), y_(y), batch_(batch) {}
  std::size_t size() const override { return static_cast<std::size_t>((x_.size(0) + batch_ - 1) / batch_); }
  std::size_t num_samples() const override { return static_cast<std::size_t>(x_.size(0)); }
  void start_epoch(std::int64_t, std::size_t start_batch) override { next_ = static_cast<std::int64_t>(start_batch); }
  std::optional<data::Batch> next() override {
    if (next_ >= static_cast<std::int64_t>(size())) return std::nullopt;
    std::int64_t begin = next_++ * batch_;
    std::int64_t end = std::min(begin + batch_, x_.size(0));
    return data::Batch{x_.slice(0, begin, end), y_.slice(0, begin, end)};
  }

 private:
  torch::Tensor x_, y_;
  std::int64_t batch_;
  std::int64_t next_ = 0;
};

class Blobs final : public data::DataModule {
 public:
  explicit Blobs(std::int64_t n = 512, std::int64_t batch = 32) : batch_(batch) {
    auto gen = torch::make_generator<at::CPUGeneratorImpl>(7);
    y_ = torch::randint(0, 2, {n}, gen, torch::kLong);
    x_ = torch::randn({n, 8}, gen) + (y_.to(torch::kFloat) * 3 - 1.5).unsqueeze(1);
  }
  std::unique_ptr<data::BatchLoader> train_loader() override { return std::make_unique<BlobLoader>(x_, y_, batch_); }
  std::unique_ptr<data::BatchLoader> val_loader() override { return std::make_unique<BlobLoader>(x_, y_, 128); }
  std::unique_ptr<data::BatchLoader> test_loader() override { return std::make_unique<BlobLoader>(x_, y_, 128); }

 private:
  torch::Tensor x_, y_;
  std::int64_t batch_;
};

class Linear final : public Module {
 public:
  Linear() { fc_ = register_module("fc", torch::nn::Linear(8, 2)); }
  torch::Tensor training_step(const data::Batch& b, std::int64_t) override { return step(b, "train"); }
  void validation_step(const data::Batch& b, std::int64_t) override { step(b, "val"); }
  void test_step(const data::Batch& b, std::int64_t) override { step(b, "test"); }
  torch::nn::Linear fc_{nullptr};
  std::int64_t training_steps = 0;

 private:
  torch::Tensor step(const data::Batch& b, const std::string& stage) {
    if (stage == "train") ++training_steps;
    // Dropout draws from torch's generator, so resume must restore it.
    torch::Tensor logits = fc_->forward(torch::dropout(b.input, 0.2, is_training()));
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, b.target);
    log(stage + "/loss", loss, b.target.size(0));
    log(stage + "/acc", (logits.argmax(1) == b.target).to(torch::kFloat).mean(), b.target.size(0));
    return loss;
  }
};

class RecordingLogger final : public Logger {
 public:
  void log_metrics(const Metrics& metrics, std::int64_t step) override { records.emplace_back(step, metrics); }
  std::vector<std::pair<std::int64_t, Metrics>> records;
};

TrainerOptions quiet(TrainerOptions o = {}) {
  o.num_sanity_val_steps = 0;
  o.num_threads = 1;
  return o;
}

std::unique_ptr<Trainer> make_trainer(TrainerOptions o, double lr = 0.1) {
  auto trainer = std::make_unique<Trainer>(o);
  trainer->set_optimizer_factory([lr](std::vector<torch::Tensor> p) {
    return std::make_shared<torch::optim::SGD>(p, torch::optim::SGDOptions(lr));
  });
  return trainer;
}

TEST(Trainer, FitLearnsAndTestReportsMetrics) {
  seed_everything(1);
  Linear module;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 3;
  auto trainer = make_trainer(o);
  trainer->fit(module, data);
  EXPECT_EQ(trainer->global_step(), 3 * 16);
  Metrics test = trainer->test(module, data);
  EXPECT_GT(test.at("test/acc"), 0.95);
  EXPECT_LT(test.at("test/loss"), 0.2);
  EXPECT_GT(trainer->callback_metrics().at("val/acc"), 0.95);
}

TEST(Trainer, SameSeedGivesBitwiseIdenticalWeights) {
  auto run = [] {
    seed_everything(123);
    Linear module;
    Blobs data;
    TrainerOptions o = quiet();
    o.max_epochs = 2;
    make_trainer(o)->fit(module, data);
    return module.fc_->weight.clone();
  };
  torch::Tensor a = run();
  torch::Tensor b = run();
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(Trainer, StepLimitsAccumulationAndBatchLimits) {
  Blobs data;  // 16 batches per epoch
  {
    Linear m;
    TrainerOptions o = quiet();
    o.max_epochs = 10;
    o.max_steps = 5;
    auto t = make_trainer(o);
    t->fit(m, data);
    EXPECT_EQ(t->global_step(), 5);
    EXPECT_EQ(m.training_steps, 5);
  }
  {
    Linear m;
    TrainerOptions o = quiet();
    o.max_epochs = 2;
    o.accumulate_grad_batches = 4;
    auto t = make_trainer(o);
    t->fit(m, data);
    EXPECT_EQ(t->global_step(), 2 * 4);
    EXPECT_EQ(m.training_steps, 32);
  }
  {
    Linear m;
    TrainerOptions o = quiet();
    o.max_epochs = 2;
    o.limit_train_batches = 0.25;  // 4 of 16
    auto t = make_trainer(o);
    t->fit(m, data);
    EXPECT_EQ(t->global_step(), 8);
  }
}

TEST(Trainer, FastDevRunRunsAFewBatchesAndLogsNothing) {
  Linear m;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 100;
  o.fast_dev_run = 2;
  auto t = make_trainer(o);
  auto logger = std::make_shared<RecordingLogger>();
  t->add_logger(logger);
  t->fit(m, data);
  EXPECT_EQ(t->global_step(), 2);
  EXPECT_TRUE(logger->records.empty());
  EXPECT_TRUE(t->callback_metrics().count("val/loss"));
}

TEST(Trainer, LogsEveryNStepsAndEachValidation) {
  Linear m;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 1;
  o.log_every_n_steps = 4;
  o.val_check_interval = 0.5;  // twice per epoch
  auto t = make_trainer(o);
  auto logger = std::make_shared<RecordingLogger>();
  t->add_logger(logger);
  t->fit(m, data);
  std::vector<std::int64_t> train_steps, val_steps;
  for (const auto& [step, metrics] : logger->records) {
    if (metrics.count("train/loss")) train_steps.push_back(step);
    if (metrics.count("val/loss")) val_steps.push_back(step);
  }
  EXPECT_EQ(train_steps, (std::vector<std::int64_t>{4, 8, 12, 16}));
  EXPECT_EQ(val_steps, (std::vector<std::int64_t>{8, 16}));
}

TEST(Trainer, GradientClippingBoundsTheUpdate) {
  for (const char* algorithm : {"norm", "value"}) {
    seed_everything(3);
    Linear m;
    Blobs data;
    torch::Tensor before = m.fc_->weight.clone();
    TrainerOptions o = quiet();
    o.max_steps = 1;
    o.gradient_clip_val = 1e-3;
    o.gradient_clip_algorithm = algorithm;
    make_trainer(o, 1.0)->fit(m, data);
    // SGD with lr 1: the change equals the clipped gradient.
    EXPECT_LE((m.fc_->weight - before).abs().max().item<double>(), 1e-3 * (1 + 1e-5)) << algorithm;
  }
}

TEST(Trainer, LrScheduleIsAppliedPerStep) {
  Linear m;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_steps = 10;
  o.log_every_n_steps = 1;
  auto t = make_trainer(o, 1.0);
  t->set_lr_schedule([](std::int64_t total) {
    return [total](std::int64_t step, double base) { return base * (1.0 - static_cast<double>(step) / total); };
  });
  auto logger = std::make_shared<RecordingLogger>();
  t->add_logger(logger);
  t->fit(m, data);
  ASSERT_GE(logger->records.size(), 10u);
  EXPECT_DOUBLE_EQ(logger->records[4].second.at("lr"), 0.5);  // after step 5 of 10
}

TEST(Trainer, EarlyStoppingStopsWhenTheMetricStalls) {
  Linear m;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = 50;
  auto t = make_trainer(o, 0.0);  // lr 0: val/loss never improves
  auto stop = std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "val/loss", .patience = 2});
  t->add_callback(stop);
  t->fit(m, data);
  EXPECT_EQ(t->current_epoch(), 2);  // epoch 0 sets the best, 1 and 2 do not improve
  auto bad = std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "val/accuracy"});
  Linear m2;
  auto t2 = make_trainer(o);
  t2->add_callback(bad);
  try {
    t2->fit(m2, data);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("it logged: epoch, val/acc, val/loss"), std::string::npos) << e.what();
  }
}

TEST(Trainer, OptionsItCannotHonourAreConfigErrors) {
  TrainerOptions o;
  o.precision = "16-mixed";  // on the CPU
  EXPECT_THROW(Trainer{o}, config::ConfigError);
  TrainerOptions t;
  t.max_time = "1:xx";
  try {
    Trainer{t};
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].key, "trainer.max_time");
  }
  TrainerOptions forever;
  forever.max_epochs = -1;
  EXPECT_THROW(Trainer{forever}, config::ConfigError);
}

// Interrupted at step k and resumed from the last checkpoint, a fit ends
// bitwise identical to the fit never interrupted: weights, Adam's moments,
// dropout's generator, data position and EarlyStopping's history.
TEST(Trainer, ResumedFitEndsBitwiseIdenticalToAnUninterruptedOne) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("kiln_trainer_resume_" + std::to_string(::getpid()));
  fs::remove_all(root);
  Blobs data;  // 16 batches per epoch
  auto options = [](std::int64_t max_steps) {
    TrainerOptions o = quiet();
    o.max_epochs = 10;
    o.max_steps = max_steps;
    o.val_check_interval = 0.5;
    return o;
  };
  auto trainer_for = [&](TrainerOptions o, const fs::path& dir) {
    auto t = std::make_unique<Trainer>(o);
    t->set_optimizer_factory([](std::vector<torch::Tensor> p) {
      return std::make_shared<torch::optim::Adam>(p, torch::optim::AdamOptions(0.01));
    });
    t->set_checkpoint_root(dir);
    t->add_callback(std::make_shared<ModelCheckpoint>(
        ModelCheckpointOptions{.save_last = true, .every_n_train_steps = 7, .every_n_epochs = 1}));
    t->add_callback(std::make_shared<EarlyStopping>(EarlyStoppingOptions{.monitor = "val/loss", .patience = 100}));
    return t;
  };
  const std::int64_t total = 40;
  seed_everything(5);
  Linear straight;
  trainer_for(options(total), root / "straight")->fit(straight, data);

  for (std::int64_t k : {3, 16, 23, 33}) {
    fs::path dir = root / ("k" + std::to_string(k));
    seed_everything(5);
    Linear first;
    trainer_for(options(k), dir)->fit(first, data);
    seed_everything(999);  // a different start: everything must come from the checkpoint
    Linear resumed;
    TrainerOptions o = options(total);
    o.resume = "last";
    auto t = trainer_for(o, dir);
    t->fit(resumed, data);
    EXPECT_EQ(t->global_step(), total) << "k=" << k;
    EXPECT_TRUE(torch::equal(straight.fc_->weight, resumed.fc_->weight)) << "k=" << k;
    EXPECT_TRUE(torch::equal(straight.fc_->bias, resumed.fc_->bias)) << "k=" << k;
  }
  // The last checkpoint of the straight run is the final state, verified on load.
  train::Checkpoint last = train::load_checkpoint(root / "straight");
  EXPECT_EQ(last.step(), total);
  EXPECT_TRUE(torch::equal(last.tensors("model").at("fc.weight"), straight.fc_->weight));
  fs::remove_all(root);
}

TEST(Trainer, ResumeFromAnotherModelsCheckpointIsRefused) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("kiln_trainer_mismatch_" + std::to_string(::getpid()));
  fs::remove_all(root);
  Blobs data;
  TrainerOptions o = quiet();
  o.max_steps = 2;
  auto t = make_trainer(o);
  t->set_checkpoint_root(root);
  Linear m;
  t->fit(m, data);
  class Wider final : public Module {
   public:
    Wider() { fc_ = register_module("fc", torch::nn::Linear(8, 3)); }
    torch::Tensor training_step(const data::Batch& b, std::int64_t) override { return fc_->forward(b.input).sum(); }
    torch::nn::Linear fc_{nullptr};
  } wider;
  o.resume = "last";
  auto t2 = make_trainer(o);
  t2->set_checkpoint_root(root);
  try {
    t2->fit(wider, data);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("has another shape or dtype than the model's"), std::string::npos) << e.what();
  }
  fs::remove_all(root);
}

TEST(Trainer, MaxTimeStopsTheRun) {
  Linear m;
  Blobs data;
  TrainerOptions o = quiet();
  o.max_epochs = -1;
  o.max_time = "00:00:00:00";
  auto t = make_trainer(o);
  t->fit(m, data);
  EXPECT_EQ(t->global_step(), 1);
}

}  // namespace
}  // namespace kiln
