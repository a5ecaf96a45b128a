// The scheduler kind: learning-rate schedules built from config.
//
//   scheduler:
//     _target_: cosine
//     warmup_steps: 100
//     min_lr: 0.0
//
//   kiln::train::register_builtin_schedulers();
//   auto schedule = kiln::instantiate_at<kiln::train::LrScheduler>(root, {"scheduler"}, total_steps);
//   const double base_lr = kiln::train::current_lr(*optimizer);   // once, before the first step
//   for (std::int64_t step = 0; step < total_steps; ++step) {
//     kiln::train::apply_lr(*optimizer, schedule->lr(step, base_lr));
//     ...  // forward, backward
//     optimizer->step();
//   }
//
// A schedule is a pure function of the optimizer step: it keeps no state,
// so a resumed run gets exactly the learning rates of an uninterrupted one
// from the step counter alone. lr(step, base_lr) is what PyTorch's
// scheduler has set after `step` calls of scheduler.step(), i.e. the lr of
// the (step+1)-th optimizer update. The built-in schedules (docs/optim.md):
//
//   constant  base_lr, after an optional linear warmup from 0
//   cosine    linear warmup from 0, then cosine decay to min_lr at total_steps
//             (torch's CosineAnnealingLR(T_max=total_steps) without warmup)
//   step      torch's StepLR
//   onecycle  torch's OneCycleLR (learning rate only; momentum is not cycled)
//
// The runtime argument is the number of optimizer steps the run will take
// (the trainer knows it: max_steps, or epochs * batches per epoch, divided by
// gradient accumulation). cosine and onecycle need it > 0 and throw a
// ConfigError at the scheduler's key otherwise; constant and step ignore it.
// Steps past the end hold the last value (see each factory).
//
// Thread safety: lr() is const and safe from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "kiln/registry.h"

namespace torch::optim {
class Optimizer;
}

namespace kiln::train {

class LrScheduler {
 public:
  virtual ~LrScheduler() = default;
  // The learning rate for optimizer step `step` (0-based; negative steps
  // count as 0) of a run whose optimizer was configured with `base_lr`.
  virtual double lr(std::int64_t step, double base_lr) const = 0;
};

// `constant`: base_lr, after warmup_steps of linear warmup from 0:
// lr(s) = base_lr * s / warmup_steps for s < warmup_steps.
struct ConstantOptions {
  std::int64_t warmup_steps = 0;  // >= 0; 0 = no warmup
};

// `cosine`: lr(s) = base_lr * s / W for s < W (W = warmup_steps); then
// min_lr + (base_lr - min_lr) * (1 + cos(pi * (s - W) / (T - W))) / 2 up to
// T = total_steps, and min_lr from T on. A run with T <= W ends inside the
// warmup.
struct CosineOptions {
  std::int64_t warmup_steps = 0;  // >= 0
  double min_lr = 0.0;            // the lr at total_steps (torch's eta_min)
};

// `step`: torch's StepLR, lr(s) = base_lr * gamma^floor(s / step_size).
struct StepOptions {
  std::int64_t step_size = 1;  // required in config, as in PyTorch; >= 1
  double gamma = 0.1;          // multiplicative factor
};

enum class AnnealStrategy { kCos, kLinear };

// `onecycle`: torch's OneCycleLR with cycle_momentum=False. The lr rises
// from max_lr / div_factor to max_lr over pct_start of total_steps, then
// falls to max_lr / (div_factor * final_div_factor) at step total_steps - 1
// (three_phase: back to max_lr / div_factor over another pct_start first).
// Steps from total_steps - 1 on hold the final value (torch raises past
// total_steps). Where torch would divide by zero (a phase of length 0,
// pct_start * total_steps == 1), the phase's end value is used.
struct OneCycleOptions {
  std::optional<double> max_lr;                           // peak lr; null = the optimizer's lr (base_lr)
  double pct_start = 0.3;                                 // fraction of the steps spent increasing, in [0, 1]
  double div_factor = 25.0;                               // initial lr = max_lr / div_factor; > 0
  double final_div_factor = 1e4;                          // min lr = initial lr / final_div_factor; > 0
  AnnealStrategy anneal_strategy = AnnealStrategy::kCos;  // "cos" or "linear"
  bool three_phase = false;
};

// The factories behind the built-in names. They throw kiln::InvalidParam
// (a ConfigError at the parameter's key once the registry reports it) for
// parameters that do not work with total_steps.
std::shared_ptr<LrScheduler> make_constant(const ConstantOptions& options, std::int64_t total_steps);
std::shared_ptr<LrScheduler> make_cosine(const CosineOptions& options, std::int64_t total_steps);
std::shared_ptr<LrScheduler> make_step(const StepOptions& options, std::int64_t total_steps);
std::shared_ptr<LrScheduler> make_onecycle(const OneCycleOptions& options, std::int64_t total_steps);

// Sets the lr of every parameter group of `optimizer` to `lr`.
void apply_lr(torch::optim::Optimizer& optimizer, double lr);
// The lr of the first parameter group (the configured lr until apply_lr
// changes it: read it once as base_lr). Throws kiln::Error when the
// optimizer has no parameter group.
double current_lr(const torch::optim::Optimizer& optimizer);

// Registers constant, cosine, step and onecycle with
// kiln::registry<kiln::train::LrScheduler>(); idempotent and thread-safe.
void register_builtin_schedulers();

}  // namespace kiln::train

// The runtime argument: the total number of optimizer steps of the run.
KILN_DEFINE_KIND(kiln::train::LrScheduler, "scheduler", std::int64_t);
