// The built-in callbacks: ModelCheckpoint's retention and cadence,
// LearningRateMonitor's values, Timer's stop and resumed state, the progress
// line, and callbacks built from config.
#include "kiln/train/callbacks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/track/tensorboard.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {
namespace fs = std::filesystem;

// 64 samples in batches of 4: 16 optimizer steps per epoch.
class TinyLoader final : public data::BatchLoader {
 public:
  TinyLoader(torch::Tensor x, torch::Tensor y) : x_(x), y_(y) {}
  std::size_t size() const override { return static_cast<std::size_t>(x_.size(0) / 4); }
  std::size_t num_samples() const override { return static_cast<std::size_t>(x_.size(0)); }
  void start_epoch(std::int64_t, std::size_t start_batch) override { next_ = static_cast<std::int64_t>(start_batch); }
  std::optional<data::Batch> next() override {
    if (next_ >= static_cast<std::int64_t>(size())) return std::nullopt;
    std::int64_t begin = 4 * next_++;
    return data::Batch{x_.slice(0, begin, begin + 4), y_.slice(0, begin, begin + 4)};
  }

 private:
  torch::Tensor x_, y_;
  std::int64_t next_ = 0;
};

class TinyData final : public data::DataModule {
 public:
  TinyData() {
    auto gen = torch::make_generator<at::CPUGeneratorImpl>(3);
    y_ = torch::randint(0, 2, {64}, gen, torch::kLong);
    x_ = torch::randn({64, 4}, gen);
  }
  std::unique_ptr<data::BatchLoader> train_loader() override { return std::make_unique<TinyLoader>(x_, y_); }
  std::unique_ptr<data::BatchLoader> val_loader() override { return std::make_unique<TinyLoader>(x_, y_); }
  std::unique_ptr<data::BatchLoader> test_loader() override { return std::make_unique<TinyLoader>(x_, y_); }

 private:
  torch::Tensor x_, y_;
};

// Validation logs "val/score" from a script: the k-th validation logs scores[k].
class Scripted final : public Module {
 public:
  explicit Scripted(std::vector<double> scores = {}) : scores_(std::move(scores)) {
    fc_ = register_module("fc", torch::nn::Linear(4, 2));
  }
  torch::Tensor training_step(const data::Batch& b, std::int64_t) override {
    torch::Tensor loss = torch::nn::functional::cross_entropy(fc_->forward(b.input), b.target);
    log("train/loss", loss, b.target.size(0));
    return loss;
  }
  void validation_step(const data::Batch&, std::int64_t index) override {
    if (index == 0) ++validations_;
    double score = scores_.empty() ? 0.0 : scores_[std::min(validations_ - 1, scores_.size() - 1)];
    log("val/score", score);
  }
  void test_step(const data::Batch&, std::int64_t) override { log("test/score", 0.25); }
  torch::nn::Linear fc_{nullptr};

 private:
  std::vector<double> scores_;
  std::size_t validations_ = 0;
};

class RecordingLogger final : public Logger {
 public:
  void log_metrics(const Metrics& metrics, std::int64_t step) override { records.emplace_back(step, metrics); }
  std::vector<std::pair<std::int64_t, Metrics>> records;
};

class TempRoot {
 public:
  explicit TempRoot(const std::string& tag = "")
      : path_(fs::temp_directory_path() / ("kiln_callbacks_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + tag)) {
    fs::remove_all(path_);
  }
  ~TempRoot() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TrainerOptions quiet(std::int64_t max_epochs) {
  TrainerOptions o;
  o.max_epochs = max_epochs;
  o.num_sanity_val_steps = 0;
  o.num_threads = 1;
  o.limit_val_batches = 2.0;
  return o;
}

std::unique_ptr<Trainer> trainer_with(TrainerOptions o, const fs::path& root = {}) {
  auto t = std::make_unique<Trainer>(o);
  t->set_optimizer_factory([](std::vector<torch::Tensor> p) {
    return std::make_shared<torch::optim::SGD>(p, torch::optim::SGDOptions(0.1));
  });
  if (!root.empty()) t->set_checkpoint_root(root);
  return t;
}

// Checkpoint directories on disk (not `last` or temporaries).
std::set<std::string> checkpoints_in(const fs::path& root) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory() && entry.path().filename().string()[0] != '.')
      names.insert(entry.path().filename().string());
  return names;
}

std::string last_of(const fs::path& root) { return train::find_checkpoint(root)->filename().string(); }

// ------------------------------------------------------------ ModelCheckpoint

TEST(ModelCheckpoint, KeepsTheTopKScoresAndKnowsTheBest) {
  TempRoot root;
  TinyData data;
  Scripted module({0.5, 0.9, 0.7, 0.95, 0.6});
  auto t = trainer_with(quiet(5), root.path());
  auto ckpt = std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.monitor = "val/score", .mode = "max", .save_top_k = 2, .filename = "{epoch}"});
  t->add_callback(ckpt);
  t->fit(module, data);
  EXPECT_EQ(checkpoints_in(root.path()), (std::set<std::string>{"epoch=1", "epoch=3"}));
  EXPECT_EQ(ckpt->best_model_path(), (root.path() / "epoch=3").string());
  ASSERT_TRUE(ckpt->best_model_score());
  EXPECT_DOUBLE_EQ(*ckpt->best_model_score(), 0.95);
  EXPECT_EQ(last_of(root.path()), "epoch=3");  // epoch 4 was not among the best, so never written
}

TEST(ModelCheckpoint, SaveLastKeepsTheNewestBesideTheBest) {
  TempRoot root;
  TinyData data;
  Scripted module({0.5, 0.9, 0.7, 0.95, 0.6});
  auto t = trainer_with(quiet(5), root.path());
  t->add_callback(std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{
      .monitor = "val/score", .mode = "min", .save_top_k = 1, .save_last = true, .filename = "{epoch}"}));
  t->fit(module, data);
  // min: 0.5 (epoch 0) stays best; epoch 4 is the newest.
  EXPECT_EQ(checkpoints_in(root.path()), (std::set<std::string>{"epoch=0", "epoch=4"}));
  EXPECT_EQ(last_of(root.path()), "epoch=4");
}

TEST(ModelCheckpoint, SaveTopKZeroKeepsOnlyTheNewestAndMinusOneKeepsAll) {
  TempRoot zero("zero"), all("all");
  TinyData data;
  Scripted a({1, 2, 3}), b({1, 2, 3});
  auto t = trainer_with(quiet(3), zero.path());
  t->add_callback(std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.monitor = "val/score", .save_top_k = 0, .save_last = true, .filename = "{epoch}"}));
  t->fit(a, data);
  EXPECT_EQ(checkpoints_in(zero.path()), (std::set<std::string>{"epoch=2"}));
  auto t2 = trainer_with(quiet(3), all.path());
  t2->add_callback(std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.save_top_k = -1, .filename = "{epoch}"}));
  t2->fit(b, data);
  EXPECT_EQ(checkpoints_in(all.path()), (std::set<std::string>{"epoch=0", "epoch=1", "epoch=2"}));
}

TEST(ModelCheckpoint, EveryNTrainStepsAndEveryNEpochsSetTheCadence) {
  TempRoot steps("steps"), epochs("epochs");
  TinyData data;
  Scripted a, b;
  auto t = trainer_with(quiet(2), steps.path());  // 32 steps
  t->add_callback(std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.save_top_k = -1, .every_n_train_steps = 5, .filename = "{step}"}));
  t->fit(a, data);
  EXPECT_EQ(checkpoints_in(steps.path()),
            (std::set<std::string>{"step=5", "step=10", "step=15", "step=20", "step=25", "step=30"}));
  auto t2 = trainer_with(quiet(5), epochs.path());
  t2->add_callback(std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.save_top_k = -1, .every_n_epochs = 2, .filename = "{epoch}-{step}"}));
  t2->fit(b, data);
  EXPECT_EQ(checkpoints_in(epochs.path()), (std::set<std::string>{"epoch=1-step=32", "epoch=3-step=64"}));
}

TEST(ModelCheckpoint, WithoutACallbackFitAddsTheDefaultOneThatKeepsTheNewest) {
  TempRoot root;
  TinyData data;
  Scripted module;
  auto t = trainer_with(quiet(3), root.path());
  t->fit(module, data);
  EXPECT_EQ(checkpoints_in(root.path()), (std::set<std::string>{"epoch=2-step=48"}));
  TempRoot off("off");
  TrainerOptions o = quiet(1);
  o.enable_checkpointing = false;
  auto t2 = trainer_with(o, off.path());
  t2->fit(module, data);
  EXPECT_FALSE(fs::exists(off.path()));
}

TEST(ModelCheckpoint, LastNamesTheNewestAfterAResumeAndTheStateCarriesOver) {
  TempRoot root;
  TinyData data;
  auto options = [] { return ModelCheckpointOptions{.save_top_k = 1, .save_last = true, .every_n_train_steps = 4}; };
  TrainerOptions o = quiet(2);
  o.max_steps = 10;
  Scripted first;
  auto t = trainer_with(o, root.path());
  t->add_callback(std::make_shared<ModelCheckpoint>(options()));
  t->fit(first, data);
  EXPECT_EQ(last_of(root.path()), "epoch=0-step=10");  // saved where max_steps stopped the fit

  o.max_steps = 20;
  o.resume = "last";
  Scripted resumed;
  auto ckpt = std::make_shared<ModelCheckpoint>(options());
  auto t2 = trainer_with(o, root.path());
  t2->add_callback(ckpt);
  t2->fit(resumed, data);
  EXPECT_EQ(t2->global_step(), 20);
  EXPECT_EQ(last_of(root.path()), "epoch=1-step=20");
  // The resumed callback knew the first run's checkpoints, so it removed them.
  EXPECT_EQ(checkpoints_in(root.path()), (std::set<std::string>{"epoch=1-step=20"}));
  EXPECT_EQ(ckpt->last_model_path(), (root.path() / "epoch=1-step=20").string());
}

TEST(ModelCheckpoint, StateRoundTripsThroughStateDict) {
  TempRoot root;
  TinyData data;
  Scripted module({0.3, 0.1, 0.2});
  auto t = trainer_with(quiet(3), root.path());
  auto ckpt = std::make_shared<ModelCheckpoint>(
      ModelCheckpointOptions{.monitor = "val/score", .save_top_k = 2, .filename = "{epoch}"});
  t->add_callback(ckpt);
  t->fit(module, data);
  ModelCheckpoint copy(ModelCheckpointOptions{.monitor = "val/score", .save_top_k = 2});
  copy.load_state_dict(ckpt->state_dict());
  ASSERT_EQ(copy.best_k_models().size(), 2u);
  EXPECT_EQ(copy.best_k_models()[0].first, "epoch=1");
  EXPECT_EQ(copy.best_k_models()[1].first, "epoch=2");
  EXPECT_DOUBLE_EQ(*copy.best_model_score(), 0.1);
}

TEST(ModelCheckpoint, AMonitorValidationNeverLogsIsAnErrorNamingWhatWasLogged) {
  TinyData data;
  Scripted module;
  TempRoot root;
  auto t = trainer_with(quiet(1), root.path());
  t->add_callback(std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.monitor = "val/acc"}));
  try {
    t->fit(module, data);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("monitors 'val/acc', which validation did not log (it logged: epoch, "
                                         "val/score)"),
              std::string::npos)
        << e.what();
  }
}

TEST(ModelCheckpoint, FilenamesFollowLightningsTemplateInASafeForm) {
  Metrics m{{"val/acc", 0.912345}, {"val/loss", 0.25}};
  EXPECT_EQ(format_checkpoint_name("{epoch}-{step}", true, 3, 1200, m), "epoch=3-step=1200");
  EXPECT_EQ(format_checkpoint_name("epoch={epoch}-step={step}", false, 3, 1200, m), "epoch=3-step=1200");
  EXPECT_EQ(format_checkpoint_name("{epoch:02d}-{val/acc:.4f}", true, 3, 1200, m), "epoch=03-val_acc=0.9123");
  EXPECT_EQ(format_checkpoint_name("best {val/loss}", false, 0, 0, m), "best_0.25");
  EXPECT_EQ(format_checkpoint_name("{missing:.2f}", true, 0, 0, m), "missing=0.00");  // Lightning: 0
  EXPECT_EQ(format_checkpoint_name(".hidden/../x", false, 0, 0, m), "_.hidden_.._x");
  EXPECT_TRUE(train::is_valid_checkpoint_dir_name(format_checkpoint_name("{epoch}-{val/acc}", true, 1, 2, m)));
}

TEST(ModelCheckpoint, BadOptionsAreConfigErrors) {
  EXPECT_THROW(ModelCheckpoint(ModelCheckpointOptions{.mode = "best"}), config::ConfigError);
  EXPECT_THROW(ModelCheckpoint(ModelCheckpointOptions{.save_top_k = -2}), config::ConfigError);
}

// ---------------------------------------------------------- WeightHistograms

TEST(WeightHistograms, WritesEveryParameterEveryNStepsIntoTensorBoard) {
  TempRoot root;
  TinyData data;
  Scripted module;
  TrainerOptions o = quiet(1);
  o.max_steps = 6;
  auto t = trainer_with(o);
  auto tensorboard = std::make_shared<track::TensorBoardLogger>(root.path() / "tb");
  t->add_logger(tensorboard);
  t->add_callback(std::make_shared<WeightHistograms>(WeightHistogramsOptions{.every_n_steps = 3}));
  t->fit(module, data);

  std::map<std::string, std::vector<std::int64_t>> steps_by_tag;
  track::Histogram last_weight;
  for (const track::Event& event : track::read_event_file(tensorboard->file()))
    for (const track::EventValue& value : event.values)
      if (value.histogram) {
        steps_by_tag[value.tag].push_back(event.step);
        if (value.tag == "weights/fc.weight") last_weight = *value.histogram;
      }
  std::vector<std::int64_t> expected{3, 6};
  EXPECT_EQ(steps_by_tag["weights/fc.weight"], expected);
  EXPECT_EQ(steps_by_tag["weights/fc.bias"], expected);
  EXPECT_EQ(steps_by_tag.size(), 2u);
  // The last histogram is of the weights as the fit left them.
  torch::Tensor w = module.fc_->weight.detach();
  EXPECT_EQ(last_weight.num, 8.0);
  EXPECT_FLOAT_EQ(last_weight.min, w.min().item<float>());
  EXPECT_FLOAT_EQ(last_weight.max, w.max().item<float>());
  EXPECT_NEAR(last_weight.sum, w.sum().item<double>(), 1e-5);
  double counted = 0;
  for (double c : last_weight.bucket) counted += c;
  EXPECT_EQ(counted, 8.0);
}

TEST(WeightHistograms, EveryNStepsBelowOneIsAConfigError) {
  EXPECT_THROW(WeightHistograms(WeightHistogramsOptions{.every_n_steps = 0}), config::ConfigError);
}

// ------------------------------------------------------- LearningRateMonitor

TEST(LearningRateMonitor, LogsTheScheduledRateUnderTheOptimizersName) {
  TinyData data;
  Scripted module;
  TrainerOptions o = quiet(1);
  o.max_steps = 8;
  o.log_every_n_steps = 2;
  auto t = trainer_with(o);
  t->set_lr_schedule([](std::int64_t total) {
    return [total](std::int64_t step, double base) { return base * (1.0 - static_cast<double>(step) / total); };
  });
  auto logger = std::make_shared<RecordingLogger>();
  t->add_logger(logger);
  t->add_callback(std::make_shared<LearningRateMonitor>());
  t->fit(module, data);
  std::vector<std::pair<std::int64_t, double>> logged;
  for (const auto& [step, metrics] : logger->records)
    if (metrics.count("lr-SGD")) logged.emplace_back(step, metrics.at("lr-SGD"));
  ASSERT_EQ(logged.size(), 4u);  // steps 2, 4, 6, 8
  for (const auto& [step, lr] : logged) {
    EXPECT_EQ(step % 2, 0);
    EXPECT_DOUBLE_EQ(lr, 0.1 * (1.0 - static_cast<double>(step) / 8)) << "step " << step;
  }
}

TEST(LearningRateMonitor, NamesParamGroupsAndLogsPerEpoch) {
  class TwoGroups final : public Module {
   public:
    TwoGroups() {
      a_ = register_module("a", torch::nn::Linear(4, 2));
      b_ = register_module("b", torch::nn::Linear(4, 2));
    }
    torch::Tensor training_step(const data::Batch& batch, std::int64_t) override {
      return torch::nn::functional::cross_entropy(a_->forward(batch.input) + b_->forward(batch.input), batch.target);
    }
    std::shared_ptr<torch::optim::Optimizer> configure_optimizers() override {
      std::vector<torch::optim::OptimizerParamGroup> groups;
      groups.emplace_back(a_->parameters(), std::make_unique<torch::optim::AdamWOptions>(0.01));
      groups.emplace_back(b_->parameters(), std::make_unique<torch::optim::AdamWOptions>(0.002));
      return std::make_shared<torch::optim::AdamW>(std::move(groups));
    }
    torch::nn::Linear a_{nullptr}, b_{nullptr};
  } module;
  TinyData data;
  auto t = trainer_with(quiet(2));
  auto logger = std::make_shared<RecordingLogger>();
  t->add_logger(logger);
  t->add_callback(std::make_shared<LearningRateMonitor>(LearningRateMonitorOptions{.logging_interval = "epoch"}));
  t->fit(module, data);
  std::vector<std::int64_t> steps;
  for (const auto& [step, metrics] : logger->records) {
    if (!metrics.count("lr-AdamW/pg1")) continue;
    steps.push_back(step);
    EXPECT_DOUBLE_EQ(metrics.at("lr-AdamW/pg1"), 0.01);
    EXPECT_DOUBLE_EQ(metrics.at("lr-AdamW/pg2"), 0.002);
  }
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 16}));  // each epoch's start
  EXPECT_THROW(LearningRateMonitor(LearningRateMonitorOptions{.logging_interval = "batch"}), config::ConfigError);
}

// ---------------------------------------------------------------------- Timer

// Advances a fake clock by one second per optimizer step.
class Ticker final : public Callback {
 public:
  explicit Ticker(double& now) : now_(now) {}
  void on_train_step_end(Trainer&, Module&) override { now_ += 1.0; }

 private:
  double& now_;
};

TEST(Timer, StopsTrainingWhenTheDurationIsReached) {
  TinyData data;
  Scripted module;
  double now = 100;
  auto t = trainer_with(quiet(10));
  t->add_callback(std::make_shared<Ticker>(now));
  auto timer = std::make_shared<Timer>(TimerOptions{.duration = "00:00:00:05"}, [&] { return now; });
  t->add_callback(timer);
  t->fit(module, data);
  EXPECT_EQ(t->global_step(), 5);
  EXPECT_DOUBLE_EQ(timer->time_elapsed("train"), 5.0);
  EXPECT_DOUBLE_EQ(*timer->time_remaining(), 0.0);
}

TEST(Timer, IntervalEpochChecksOnlyAtEpochEnds) {
  TinyData data;
  Scripted module;
  double now = 0;
  auto t = trainer_with(quiet(10));
  t->add_callback(std::make_shared<Ticker>(now));
  t->add_callback(
      std::make_shared<Timer>(TimerOptions{.duration = "00:00:00:20", .interval = "epoch"}, [&] { return now; }));
  t->fit(module, data);
  EXPECT_EQ(t->global_step(), 32);  // 16 s after epoch 0, 32 s after epoch 1
}

TEST(Timer, AResumedFitCountsTheTimeItsEarlierRunTrained) {
  TempRoot root;
  TinyData data;
  double now = 0;
  auto run = [&](std::optional<std::string> resume, const std::string& duration) {
    TrainerOptions o = quiet(10);
    o.resume = resume;
    auto t = trainer_with(o, root.path());
    t->add_callback(std::make_shared<Ticker>(now));
    t->add_callback(std::make_shared<ModelCheckpoint>(ModelCheckpointOptions{.save_last = true}));
    auto timer = std::make_shared<Timer>(TimerOptions{.duration = duration}, [&] { return now; });
    t->add_callback(timer);
    Scripted module;
    t->fit(module, data);
    return std::make_pair(t->global_step(), timer->time_elapsed("train"));
  };
  EXPECT_EQ(run(std::nullopt, "00:00:00:05").first, 5);
  auto [steps, elapsed] = run("last", "00:00:00:08");
  EXPECT_EQ(steps, 8);  // 5 s before the resume + 3 s after
  EXPECT_DOUBLE_EQ(elapsed, 8.0);
}

TEST(Timer, TimesValidationAndTestAndParsesDurations) {
  TinyData data;
  Scripted module;
  double now = 0;
  // Validation and test each take 2 fake seconds.
  class Slow final : public Callback {
   public:
    explicit Slow(double& now) : now_(now) {}
    void on_validation_start(Trainer&, Module&) override { now_ += 2; }
    void on_test_start(Trainer&, Module&) override { now_ += 2; }

   private:
    double& now_;
  };
  auto timer = std::make_shared<Timer>(TimerOptions{}, [&] { return now; });
  auto t = trainer_with(quiet(2));
  t->add_callback(timer);  // starts its stage clocks first, then Slow spends the time
  t->add_callback(std::make_shared<Slow>(now));
  t->fit(module, data);
  t->test(module, data);
  EXPECT_DOUBLE_EQ(timer->time_elapsed("validate"), 4.0);
  EXPECT_DOUBLE_EQ(timer->time_elapsed("test"), 2.0);
  EXPECT_FALSE(timer->time_remaining());
  EXPECT_EQ(parse_duration("01:02:03:04"), 86400 + 2 * 3600 + 3 * 60 + 4);
  EXPECT_EQ(parse_duration("90"), 90);
  EXPECT_FALSE(parse_duration("1:xx"));
  EXPECT_FALSE(parse_duration("1:2:3:4:5"));
  try {
    Timer bad(TimerOptions{.duration = "12h"});
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].key, "timer.duration");
  }
}

// ---------------------------------------------------------------- ProgressBar

TEST(ProgressBar, FormatsATqdmLikeLine) {
  ProgressLine line{.epoch = 2,
                    .max_epochs = 6,
                    .batch = 199,
                    .total = 422,
                    .elapsed = 16.2,
                    .rate = 12.3,
                    .loss = 0.34123,
                    .lr = 2.9e-4};
  EXPECT_EQ(format_progress_line(line, true),
            "Epoch 2/6:  47%|#########           | 199/422 [00:16<00:18, 12.30it/s, loss=0.3412, lr=2.90e-04]");
  EXPECT_EQ(format_progress_line(line, false),
            "Epoch 2/6: 199/422 (47%) [00:16<00:18, 12.30it/s, loss=0.3412, lr=2.90e-04]");
  ProgressLine unknown{.epoch = 0, .batch = 3, .elapsed = 4000};
  EXPECT_EQ(format_progress_line(unknown, false), "Epoch 0: 3/? [1:06:40<?, ?it/s]");
  EXPECT_EQ(format_metrics_line(1, 6, "validation", {{"epoch", 1}, {"val/acc", 0.87781}, {"val/loss", 0.34649}}),
            "Epoch 1/6: validation  val/acc=0.8778  val/loss=0.3465");
}

TEST(ProgressBar, ModeComesFromKilnProgressThenCiThenTheTerminal) {
  EXPECT_EQ(choose_progress_mode("off", nullptr, true), ProgressMode::kOff);
  EXPECT_EQ(choose_progress_mode("tty", "true", false), ProgressMode::kTty);
  EXPECT_EQ(choose_progress_mode("plain", nullptr, true), ProgressMode::kPlain);
  EXPECT_EQ(choose_progress_mode(nullptr, "1", true), ProgressMode::kPlain);
  EXPECT_EQ(choose_progress_mode("fancy", nullptr, true), ProgressMode::kTty);
  EXPECT_EQ(choose_progress_mode(nullptr, nullptr, true), ProgressMode::kTty);
  EXPECT_EQ(choose_progress_mode(nullptr, nullptr, false), ProgressMode::kPlain);
  EXPECT_THROW(ProgressBar(ProgressBarOptions{.mode = "loud"}), config::ConfigError);
}

std::vector<std::string> lines_of(std::FILE* file) {
  std::rewind(file);
  std::vector<std::string> lines;
  char buf[512];
  while (std::fgets(buf, sizeof buf, file)) lines.emplace_back(buf);
  return lines;
}

TEST(ProgressBar, PlainModePrintsEveryNStepsAndAtValidationAndEpochEnds) {
  TinyData data;
  Scripted module({0.5});
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  auto t = trainer_with(quiet(1));
  t->add_callback(std::make_shared<ProgressBar>(ProgressBarOptions{.plain_every_n_steps = 5, .mode = "plain"}, out));
  t->fit(module, data);
  t->test(module, data);
  std::vector<std::string> lines = lines_of(out);
  std::fclose(out);
  // start, batches 5/10/15 of 16, validation, epoch end, test.
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[6], "Test:  test/score=0.25\n");
  EXPECT_EQ(lines[0], "kiln: training for 16 steps at most\n");
  EXPECT_EQ(lines[1].rfind("Epoch 0/1: 5/16 (31%) [", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find(", loss="), std::string::npos) << lines[1];
  EXPECT_EQ(lines[4], "Epoch 0/1: validation  val/score=0.5\n");
  EXPECT_EQ(lines[5].rfind("Epoch 0/1: 16/16 (100%) [", 0), 0u) << lines[5];
}

TEST(ProgressBar, TtyModeRefreshesOneLineInPlace) {
  TinyData data;
  Scripted module;
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  TrainerOptions o = quiet(1);
  o.check_val_every_n_epoch = std::nullopt;
  o.val_check_interval = 1000;  // no validation
  auto t = trainer_with(o);
  t->add_callback(std::make_shared<ProgressBar>(ProgressBarOptions{.refresh_rate = 8, .mode = "tty"}, out));
  t->fit(module, data);
  std::vector<std::string> lines = lines_of(out);
  std::fclose(out);
  ASSERT_EQ(lines.size(), 2u);  // the start line, then the bar: refreshed at 8, finished at 16
  EXPECT_EQ(lines[1].rfind("\rEpoch 0/1:  50%|##########          | 8/16 [", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("\rEpoch 0/1: 100%|####################| 16/16 ["), std::string::npos) << lines[1];
}

// ---------------------------------------------------------------- from config

config::Node yaml(const std::string& text) { return config::load_yaml(text, "<test>").root; }

TEST(CallbackRegistry, BuildsEveryBuiltInFromConfig) {
  register_builtin_callbacks();
  config::Node root = yaml(R"(
callbacks:
  ckpt: {_target_: model_checkpoint, monitor: val/acc, mode: max, save_top_k: 2, every_n_epochs: 3}
  stop: {_target_: early_stopping, monitor: val/loss, patience: 4}
  lr: {_target_: learning_rate_monitor, logging_interval: epoch}
  timer: {_target_: timer, duration: "00:01:00:00"}
  bar: {_target_: progress_bar, refresh_rate: 5, mode: "off"}
)");
  auto ckpt = std::dynamic_pointer_cast<ModelCheckpoint>(instantiate_at<Callback>(root, {"callbacks", "ckpt"}));
  ASSERT_TRUE(ckpt);
  EXPECT_EQ(ckpt->options().save_top_k, 2);
  EXPECT_EQ(*ckpt->options().every_n_epochs, 3);
  EXPECT_EQ(*ckpt->options().monitor, "val/acc");
  EXPECT_TRUE(std::dynamic_pointer_cast<EarlyStopping>(instantiate_at<Callback>(root, {"callbacks", "stop"})));
  EXPECT_TRUE(std::dynamic_pointer_cast<LearningRateMonitor>(instantiate_at<Callback>(root, {"callbacks", "lr"})));
  auto timer = std::dynamic_pointer_cast<Timer>(instantiate_at<Callback>(root, {"callbacks", "timer"}));
  ASSERT_TRUE(timer);
  EXPECT_EQ(*timer->duration_seconds(), 3600);
  auto bar = std::dynamic_pointer_cast<ProgressBar>(instantiate_at<Callback>(root, {"callbacks", "bar"}));
  ASSERT_TRUE(bar);
  EXPECT_EQ(bar->mode(), ProgressMode::kOff);
}

TEST(CallbackRegistry, AnUnknownParameterIsAConfigErrorWithDidYouMean) {
  register_builtin_callbacks();
  config::Node root = yaml("callbacks:\n  ckpt: {_target_: model_checkpoint, save_top_kk: 2}\n");
  try {
    instantiate_at<Callback>(root, {"callbacks", "ckpt"});
    FAIL();
  } catch (const config::ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("callbacks.ckpt.save_top_kk"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'callbacks.ckpt.save_top_k'"), std::string::npos) << what;
  }
  config::Node typo = yaml("callbacks:\n  t: {_target_: timr}\n");
  try {
    instantiate_at<Callback>(typo, {"callbacks", "t"});
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'timer'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
