// System metrics of the training process, sampled by the run recorder:
//   system/cpu_percent       CPU time of this process over the last interval
//                            (100 = one core busy)
//   system/rss_mb            resident memory of this process
//   system/memory_percent    memory in use on the machine
//   system/gpu<i>/utilization, system/gpu<i>/memory_mb
//                            per GPU, through NVML (libnvidia-ml.so.1 loaded
//                            at run time) when a driver is present
// Read from /proc (Linux). Torch-free.
//
// Thread safety: one SystemSampler per thread.
#pragma once

#include <memory>
#include <vector>

#include "kiln/track/run_store.h"

namespace kiln::track {

class SystemSampler {
 public:
  SystemSampler();
  ~SystemSampler();
  SystemSampler(const SystemSampler&) = delete;
  SystemSampler& operator=(const SystemSampler&) = delete;

  // One point per metric at wall time `now` (seconds since the epoch).
  // cpu_percent needs a previous sample, so the first call omits it.
  std::vector<MetricRow> sample(double now);

  // How many GPUs NVML reported (0 without a driver).
  int gpu_count() const;

 private:
  struct Nvml;
  std::unique_ptr<Nvml> nvml_;
  double last_time_ = 0;
  double last_cpu_seconds_ = -1;
};

}  // namespace kiln::track
