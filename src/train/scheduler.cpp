// The built-in learning-rate schedules, their schemas and apply_lr.
//
// Each schedule is the closed form of its PyTorch counterpart (torch 1.13's
// torch/optim/lr_scheduler.py); tests/train/sched_test.cpp compares
// the sequences with PyTorch's.
#include "kiln/train/scheduler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace kiln::train {
namespace {
namespace cfg = kiln::config;

// Linear warmup from 0, shared by constant and cosine: the factor for step
// `s` (< warmup_steps).
double warmup_factor(std::int64_t s, std::int64_t warmup_steps) {
  return static_cast<double>(s) / static_cast<double>(warmup_steps);
}

void require_total_steps(const char* name, std::int64_t total_steps) {
  if (total_steps > 0) return;
  throw InvalidParam("",
                     std::string(name) + " needs the run's total number of optimizer steps, found total_steps " +
                         std::to_string(total_steps),
                     "set trainer.max_steps or trainer.max_epochs so the trainer knows how long the run is, "
                     "or choose a schedule that does not need it (constant, step)");
}

class Constant final : public LrScheduler {
 public:
  explicit Constant(ConstantOptions o) : o_(o) {}
  double lr(std::int64_t step, double base_lr) const override {
    const std::int64_t s = std::max<std::int64_t>(step, 0);
    return s < o_.warmup_steps ? base_lr * warmup_factor(s, o_.warmup_steps) : base_lr;
  }

 private:
  ConstantOptions o_;
};

class Cosine final : public LrScheduler {
 public:
  Cosine(CosineOptions o, std::int64_t total_steps) : o_(o), total_(total_steps) {}
  double lr(std::int64_t step, double base_lr) const override {
    const std::int64_t s = std::max<std::int64_t>(step, 0);
    if (s < o_.warmup_steps) return base_lr * warmup_factor(s, o_.warmup_steps);
    if (s >= total_) return o_.min_lr;
    // Written as CosineAnnealingLR's closed form, so warmup 0 is that schedule.
    const double t = static_cast<double>(s - o_.warmup_steps);
    const double span = static_cast<double>(total_ - o_.warmup_steps);
    return o_.min_lr + (base_lr - o_.min_lr) * (1 + std::cos(std::numbers::pi * t / span)) / 2;
  }

 private:
  CosineOptions o_;
  std::int64_t total_;
};

class Step final : public LrScheduler {
 public:
  explicit Step(StepOptions o) : o_(o) {}
  double lr(std::int64_t step, double base_lr) const override {
    const std::int64_t s = std::max<std::int64_t>(step, 0);
    return base_lr * std::pow(o_.gamma, static_cast<double>(s / o_.step_size));
  }

 private:
  StepOptions o_;
};

// A port of OneCycleLR.get_lr, kept in torch's order of operations so the
// values match to the last bits.
class OneCycle final : public LrScheduler {
 public:
  OneCycle(OneCycleOptions o, std::int64_t total_steps) : o_(o), total_(total_steps) {
    const double t = static_cast<double>(total_steps);
    if (o.three_phase) {
      phases_ = {
          {o.pct_start * t - 1, kInitial, kMax}, {2 * o.pct_start * t - 2, kMax, kInitial}, {t - 1, kInitial, kMin}};
    } else {
      phases_ = {{o.pct_start * t - 1, kInitial, kMax}, {t - 1, kMax, kMin}};
    }
  }

  double lr(std::int64_t step, double base_lr) const override {
    const double step_num = static_cast<double>(std::clamp<std::int64_t>(step, 0, total_ - 1));
    const double max_lr = o_.max_lr.value_or(base_lr);
    const double initial_lr = max_lr / o_.div_factor;
    const double values[] = {initial_lr, max_lr, initial_lr / o_.final_div_factor};
    double start_step = 0;
    for (std::size_t i = 0; i < phases_.size(); ++i) {
      const Phase& phase = phases_[i];
      if (step_num <= phase.end_step || i + 1 == phases_.size()) {
        const double length = phase.end_step - start_step;
        // torch divides by zero here; the phase's end value is what it builds towards.
        const double pct = length == 0 ? 1.0 : (step_num - start_step) / length;
        return anneal(values[phase.start], values[phase.end], pct);
      }
      start_step = phase.end_step;
    }
    return values[kMin];  // not reached: the last phase always returns
  }

 private:
  enum Value { kInitial = 0, kMax = 1, kMin = 2 };
  struct Phase {
    double end_step;
    Value start;
    Value end;
  };

  double anneal(double start, double end, double pct) const {
    if (o_.anneal_strategy == AnnealStrategy::kLinear) return (end - start) * pct + start;
    const double cos_out = std::cos(std::numbers::pi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }

  OneCycleOptions o_;
  std::int64_t total_;
  std::vector<Phase> phases_;
};

cfg::Schema<ConstantOptions> constant_schema() {
  cfg::Schema<ConstantOptions> s("constant", {.doc = "constant lr, after an optional linear warmup from 0"});
  s.field("warmup_steps", &ConstantOptions::warmup_steps).doc("steps of linear warmup from 0 (0 = none)").min(0);
  return s;
}

cfg::Schema<CosineOptions> cosine_schema() {
  cfg::Schema<CosineOptions> s("cosine", {.doc = "linear warmup from 0, then cosine decay to min_lr"});
  s.field("warmup_steps", &CosineOptions::warmup_steps).doc("steps of linear warmup from 0 (0 = none)").min(0);
  s.field("min_lr", &CosineOptions::min_lr).doc("lr at the last step (torch's eta_min)").min(0.0);
  return s;
}

cfg::Schema<StepOptions> step_schema() {
  cfg::Schema<StepOptions> s("step", {.doc = "lr times gamma every step_size steps (torch's StepLR)"});
  s.field("step_size", &StepOptions::step_size).doc("steps between decays").min(1).required();
  s.field("gamma", &StepOptions::gamma).doc("multiplicative factor of each decay").min(0.0);
  return s;
}

cfg::Schema<OneCycleOptions> onecycle_schema() {
  cfg::Schema<OneCycleOptions> s("onecycle", {.doc = "the 1cycle policy (torch's OneCycleLR, lr only)"});
  s.field("max_lr", &OneCycleOptions::max_lr).doc("peak lr; null = the optimizer's lr").min(0.0);
  s.field("pct_start", &OneCycleOptions::pct_start).doc("fraction of the steps spent increasing").range(0.0, 1.0);
  s.field("div_factor", &OneCycleOptions::div_factor).doc("initial lr = max_lr / div_factor; > 0").min(0.0);
  s.field("final_div_factor", &OneCycleOptions::final_div_factor)
      .doc("min lr = initial lr / final_div_factor; > 0")
      .min(0.0);
  s.field("anneal_strategy", &OneCycleOptions::anneal_strategy,
          {{"cos", AnnealStrategy::kCos}, {"linear", AnnealStrategy::kLinear}})
      .doc("annealing curve");
  s.field("three_phase", &OneCycleOptions::three_phase).doc("return to the initial lr before the final decay");
  return s;
}

}  // namespace

std::shared_ptr<LrScheduler> make_constant(const ConstantOptions& options, std::int64_t) {
  return std::make_shared<Constant>(options);
}

std::shared_ptr<LrScheduler> make_cosine(const CosineOptions& options, std::int64_t total_steps) {
  require_total_steps("cosine", total_steps);
  return std::make_shared<Cosine>(options, total_steps);
}

std::shared_ptr<LrScheduler> make_step(const StepOptions& options, std::int64_t) {
  return std::make_shared<Step>(options);
}

std::shared_ptr<LrScheduler> make_onecycle(const OneCycleOptions& options, std::int64_t total_steps) {
  require_total_steps("onecycle", total_steps);
  // The schema's min() is inclusive; a factor of 0 would divide by zero.
  if (options.div_factor <= 0) throw InvalidParam("div_factor", "expected div_factor > 0, found 0");
  if (options.final_div_factor <= 0) throw InvalidParam("final_div_factor", "expected final_div_factor > 0, found 0");
  return std::make_shared<OneCycle>(options, total_steps);
}

void apply_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    try {
      group.options().set_lr(lr);
    } catch (const c10::Error&) {
      throw kiln::Error("apply_lr: this optimizer's options do not implement set_lr(), so no schedule can set its lr");
    }
  }
}

double current_lr(const torch::optim::Optimizer& optimizer) {
  const auto& groups = optimizer.param_groups();
  if (groups.empty()) throw kiln::Error("current_lr: the optimizer has no parameter group");
  try {
    return groups.front().options().get_lr();
  } catch (const c10::Error&) {
    throw kiln::Error("current_lr: this optimizer's options do not implement get_lr()");
  }
}

void register_builtin_schedulers() {
  static const bool registered = [] {
    auto& schedulers = kiln::registry<LrScheduler>();
    schedulers.add("constant", constant_schema(), make_constant);
    schedulers.add("cosine", cosine_schema(), make_cosine);
    schedulers.add("step", step_schema(), make_step);
    schedulers.add("onecycle", onecycle_schema(), make_onecycle);
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::train
