// Does a reproduction match its original? Every metric point the original
// logged must be in the reproduction at the same step with a value within
// the tolerance (and no metric may appear in only one of them), and the
// tensors of the two runs' last checkpoints must match within it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kiln/track/run_store.h"

namespace kiln::cli {

struct Divergence {
  std::string what;  // "train/loss at step 40", "model.safetensors: tensor conv1.weight[17]"
  std::string original;
  std::string reproduction;
};

struct ReproductionReport {
  std::string original_id;
  std::string reproduction_id;
  double tolerance = 0;
  std::int64_t metrics_compared = 0;
  std::int64_t points_compared = 0;
  std::int64_t weight_files_compared = 0;
  std::int64_t tensors_compared = 0;
  std::optional<Divergence> first_divergence;
  bool passed = false;
};

ReproductionReport compare_reproduction(track::RunStore& store, const std::string& original_id,
                                        const std::string& reproduction_id, double tolerance);

// "PASS: ..." or "FAIL: first divergence: ..." with what was compared.
std::string format_reproduction_report(const ReproductionReport& report);

}  // namespace kiln::cli
