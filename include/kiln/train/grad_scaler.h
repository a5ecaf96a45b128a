// kiln::GradScaler: dynamic loss scaling for float16 training
// (torch.cuda.amp.GradScaler, same defaults and rules).
//
// fp16 gradients of small losses underflow to zero; the scaler multiplies
// the loss by `scale` before backward, divides the gradients by it before the
// optimizer sees them, and skips the step when any gradient is inf or NaN
// (the scale was too large), halving the scale. After growth_interval
// steps in a row without inf/NaN it doubles the scale.
//
//   torch::Tensor loss = module.training_step(batch, i);
//   scaler.scale(loss).backward();
//   scaler.unscale_(opt);          // optional: before gradient clipping
//   clip_grad_norm_(params, 1.0);
//   scaler.step(opt);              // opt.step() unless a gradient is inf/NaN
//   scaler.update();
//   opt.zero_grad();
//
// Written in plain tensor ops, so it runs (and is tested) on any device.
// step() reads one flag from the device (a host sync per optimizer step, as
// in PyTorch). The Trainer uses one with precision "16-mixed" and saves its
// state() in checkpoints.
//
// Thread safety: none; one scaler per optimizer.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>

namespace kiln {

struct GradScalerOptions {
  double init_scale = 65536.0;          // the first scale (2^16)
  double growth_factor = 2.0;           // scale *= this after growth_interval clean steps; > 1
  double backoff_factor = 0.5;          // scale *= this after a step with inf/NaN; in (0, 1)
  std::int64_t growth_interval = 2000;  // clean steps before growing; >= 1
};

class GradScaler {
 public:
  // Throws kiln::Error for an option out of range.
  explicit GradScaler(GradScalerOptions options = {});

  // loss * scale (no host sync).
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Divides the gradients of `opt`'s parameters by the scale in place and
  // records whether any is inf/NaN (on the device). At most once between two
  // update() calls; step() calls it when it was not.
  void unscale_(torch::optim::Optimizer& opt);
  // opt.step() unless a gradient was inf/NaN; returns whether it stepped.
  bool step(torch::optim::Optimizer& opt);
  // Adjusts the scale from the last step's gradients; call once per step().
  void update();

  double get_scale() const { return scale_; }
  // Clean steps in a row since the scale last changed.
  std::int64_t growth_tracker() const { return growth_tracker_; }

  // What a checkpoint keeps.
  struct State {
    double scale = 65536.0;
    std::int64_t growth_tracker = 0;
  };
  State state() const { return {scale_, growth_tracker_}; }
  void load_state(const State& state);

 private:
  GradScalerOptions options_;
  double scale_;
  std::int64_t growth_tracker_ = 0;
  bool unscaled_ = false;
  torch::Tensor found_inf_;             // bool scalar on the gradients' device, set by unscale_
  std::optional<bool> found_inf_host_;  // read by step()
};

}  // namespace kiln
