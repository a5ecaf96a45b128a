// Learning-rate schedules: parity with torch.optim.lr_scheduler, errors,
// apply_lr and the shipped configs/scheduler/*.yaml.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/train/optim.h"
#include "kiln/train/scheduler.h"
#include "parity/reference.h"

namespace kiln::train {
namespace {

// Tolerance of the lr sequences: 1e-6 relative, with an absolute floor of
// 1e-12 for values that should be 0 (torch's recursive CosineAnnealingLR
// reaches them through a product).
constexpr double kRelTol = 1e-6;
constexpr double kAbsTol = 1e-12;

std::shared_ptr<LrScheduler> build(const std::string& yaml, std::int64_t total_steps) {
  register_builtin_schedulers();
  auto root = config::load_yaml(yaml, "train.yaml").root;
  return kiln::instantiate_at<LrScheduler>(root, {"scheduler"}, total_steps);
}

// The one diagnostic of the ConfigError that `fn` throws.
template <class Fn>
config::Diagnostic config_error(Fn fn) {
  try {
    fn();
  } catch (const config::ConfigError& e) {
    ::testing::Test::RecordProperty("error", e.what());  // the message as users see it (--gtest_output=xml)
    EXPECT_EQ(e.diagnostics().size(), 1u) << e.what();
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "no ConfigError";
  return {};
}

TEST(SchedParity, EveryScheduleMatchesPyTorch) {
  REQUIRE_PYTORCH_REFERENCE(ref);
  ASSERT_GE(ref.scheds.size(), 8u);
  std::set<std::string> covered;
  for (const auto& c : ref.scheds) {
    SCOPED_TRACE(c.name + ": " + c.config);
    auto schedule = build("scheduler: " + c.config + "\n", c.total_steps);
    covered.insert(config::load_yaml(c.config, "case").root.find("_target_")->as_string());
    ASSERT_FALSE(c.lrs.empty());
    for (std::size_t s = 0; s < c.lrs.size(); ++s) {
      const double expected = c.lrs[s];
      const double got = schedule->lr(static_cast<std::int64_t>(s), c.base_lr);
      ASSERT_NEAR(got, expected, kRelTol * std::abs(expected) + kAbsTol) << "step " << s;
    }
  }
  for (const auto& name : kiln::registry<LrScheduler>().names()) {
    EXPECT_TRUE(covered.count(name)) << "no parity case for scheduler '" << name << "'";
  }
}

TEST(Sched, CosineWithoutWarmupIsCosineAnnealing) {
  auto cosine = build("scheduler: {_target_: cosine, min_lr: 0.01}\n", 10);
  EXPECT_DOUBLE_EQ(cosine->lr(0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(cosine->lr(5, 1.0), 0.01 + 0.99 * 0.5);
  EXPECT_DOUBLE_EQ(cosine->lr(10, 1.0), 0.01);
}

TEST(Sched, StepsPastTheEndHoldTheLastValue) {
  auto cosine = build("scheduler: {_target_: cosine, warmup_steps: 5, min_lr: 0.001}\n", 50);
  EXPECT_DOUBLE_EQ(cosine->lr(50, 0.1), 0.001);
  EXPECT_DOUBLE_EQ(cosine->lr(1000, 0.1), 0.001);
  auto onecycle = build("scheduler: {_target_: onecycle}\n", 20);
  EXPECT_DOUBLE_EQ(onecycle->lr(20, 0.1), onecycle->lr(19, 0.1));
  EXPECT_DOUBLE_EQ(onecycle->lr(500, 0.1), onecycle->lr(19, 0.1));
  EXPECT_NEAR(onecycle->lr(19, 0.1), 0.1 / 25 / 1e4, 1e-15);
}

TEST(Sched, NegativeStepsCountAsZero) {
  auto warm = build("scheduler: {_target_: constant, warmup_steps: 4}\n", 0);
  EXPECT_EQ(warm->lr(-3, 0.2), 0.0);
  EXPECT_DOUBLE_EQ(warm->lr(2, 0.2), 0.1);
  EXPECT_DOUBLE_EQ(warm->lr(4, 0.2), 0.2);
}

TEST(Sched, WarmupLongerThanTheRunEndsInsideTheWarmup) {
  auto cosine = build("scheduler: {_target_: cosine, warmup_steps: 100}\n", 10);
  EXPECT_DOUBLE_EQ(cosine->lr(9, 1.0), 0.09);
}

TEST(Sched, OneCycleMaxLrDefaultsToTheOptimizersLr) {
  auto onecycle = build("scheduler: {_target_: onecycle, pct_start: 0.5}\n", 10);
  EXPECT_DOUBLE_EQ(onecycle->lr(4, 0.3), 0.3);  // the peak: step pct_start * total - 1
  auto fixed = build("scheduler: {_target_: onecycle, pct_start: 0.5, max_lr: 2.0}\n", 10);
  EXPECT_DOUBLE_EQ(fixed->lr(4, 0.3), 2.0);
}

TEST(Sched, OneCycleZeroLengthPhaseUsesItsEndValue) {
  // pct_start * total_steps == 1: torch divides by zero at step 0.
  auto onecycle = build("scheduler: {_target_: onecycle, pct_start: 0.1}\n", 10);
  EXPECT_DOUBLE_EQ(onecycle->lr(0, 1.0), 1.0);
  EXPECT_TRUE(std::isfinite(onecycle->lr(1, 1.0)));
}

TEST(SchedErrors, TotalStepsIsRequiredByCosineAndOneCycle) {
  for (const char* target : {"cosine", "onecycle"}) {
    auto d = config_error([&] { build(std::string("scheduler:\n  _target_: ") + target + "\n", 0); });
    EXPECT_EQ(d.key, "scheduler") << target;
    EXPECT_EQ(d.source.str(), "train.yaml:2:3") << target;
    EXPECT_NE(d.message.find(std::string(target) + " needs the run's total number of optimizer steps, found "
                                                   "total_steps 0"),
              std::string::npos)
        << d.message;
    EXPECT_NE(d.hint.find("trainer.max_steps"), std::string::npos) << d.hint;
  }
  auto d = config_error([] { build("scheduler: {_target_: cosine}\n", -1); });
  EXPECT_NE(d.message.find("found total_steps -1"), std::string::npos) << d.message;
}

TEST(SchedErrors, ConstantAndStepIgnoreTotalSteps) {
  EXPECT_DOUBLE_EQ(build("scheduler: {_target_: constant}\n", -1)->lr(7, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(build("scheduler: {_target_: step, step_size: 2, gamma: 0.5}\n", 0)->lr(5, 1.0), 0.25);
}

TEST(SchedErrors, StepSizeIsRequired) {
  auto d = config_error([] { build("scheduler:\n  _target_: step\n", 10); });
  EXPECT_EQ(d.key, "scheduler.step_size");
  EXPECT_NE(d.message.find("missing mandatory value"), std::string::npos) << d.message;
}

TEST(SchedErrors, DivFactorZeroNamesTheKey) {
  auto d = config_error([] { build("scheduler:\n  _target_: onecycle\n  div_factor: 0\n", 10); });
  EXPECT_EQ(d.key, "scheduler.div_factor");
  EXPECT_EQ(d.source.str(), "train.yaml:3:15");
  EXPECT_NE(d.message.find("expected div_factor > 0, found 0"), std::string::npos) << d.message;
}

TEST(SchedErrors, AnnealStrategyIsCosOrLinear) {
  auto d = config_error([] { build("scheduler:\n  _target_: onecycle\n  anneal_strategy: cosine\n", 10); });
  EXPECT_EQ(d.key, "scheduler.anneal_strategy");
  EXPECT_EQ(d.source.str(), "train.yaml:3:20");
  EXPECT_NE(d.message.find("cos, linear"), std::string::npos) << d.message;
}

TEST(SchedErrors, UnknownScheduleSuggestsTheClosest) {
  auto d = config_error([] { build("scheduler:\n  _target_: cosin\n", 10); });
  EXPECT_EQ(d.key, "scheduler._target_");
  EXPECT_EQ(d.source.str(), "train.yaml:2:13");
  EXPECT_NE(d.message.find("unknown scheduler 'cosin'"), std::string::npos) << d.message;
  EXPECT_NE(d.hint.find("did you mean 'cosine'?"), std::string::npos) << d.hint;
}

TEST(ApplyLr, SetsEveryParameterGroupAndCurrentLrReadsTheFirst) {
  auto a = torch::zeros({2}, torch::requires_grad());
  auto b = torch::zeros({3}, torch::requires_grad());
  torch::optim::SGD sgd({torch::optim::OptimizerParamGroup({a}), torch::optim::OptimizerParamGroup({b})},
                        torch::optim::SGDOptions(0.1));
  sgd.param_groups()[1].options().set_lr(0.7);
  EXPECT_DOUBLE_EQ(current_lr(sgd), 0.1);
  apply_lr(sgd, 0.025);
  for (const auto& group : sgd.param_groups()) EXPECT_DOUBLE_EQ(group.options().get_lr(), 0.025);
  EXPECT_DOUBLE_EQ(current_lr(sgd), 0.025);
}

TEST(ShippedConfigs, EverySchedulerFileInstantiates) {
  register_builtin_schedulers();
  const std::filesystem::path dir = std::filesystem::path(KILN_SOURCE_DIR) / "configs" / "scheduler";
  std::set<std::string> targets;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    auto root = config::load_yaml_file(entry.path().string()).root;
    targets.insert(root.find("_target_")->as_string());
    auto schedule = kiln::instantiate<LrScheduler>(root, std::int64_t{1000});
    for (std::int64_t s : {0, 1, 100, 500, 999}) {
      const double lr = schedule->lr(s, 0.1);
      EXPECT_TRUE(std::isfinite(lr) && lr >= 0 && lr <= 0.1) << "step " << s << ": " << lr;
    }
  }
  EXPECT_EQ(targets, (std::set<std::string>{"constant", "cosine", "onecycle", "step"}));
}

}  // namespace
}  // namespace kiln::train
