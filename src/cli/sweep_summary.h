// The table `kiln train -m` prints when its jobs are done: one row per job
// with its overrides, status, time and final metrics (test/* first, then
// val/*), so a sweep's result reads at a glance.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln::cli {

struct SweepRow {
  std::size_t index = 0;
  std::string overrides;  // "optimizer.lr=0.01 model=mlp"
  std::string status;     // "FINISHED" | "FAILED"
  std::string run_dir;
  double seconds = 0;
  std::map<std::string, double> metrics;
};

// Columns: #, status, the metrics under test/ and val/ that any row has
// (missing ones print "-"), seconds, overrides. Numbers with 4 decimals.
std::string format_sweep_table(const std::vector<SweepRow>& rows);

}  // namespace kiln::cli
