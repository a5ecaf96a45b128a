// Training a job whose config is already complete (a recorded run's), as a
// new run: what `kiln reproduce` does after reading the original.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/config/override.h"
#include "kiln/runner_abi.h"

namespace kiln::cli {

struct CompleteJob {
  config::Node composed;                    // written as .kiln/config.yaml
  config::Node resolved;                    // what is trained
  std::vector<config::Override> overrides;  // written as .kiln/overrides.yaml
  std::map<std::string, std::string> tags;  // set on the run in the store
};

struct TrainedRun {
  std::filesystem::path run_dir;
  std::string run_id;
  JobSummary summary;
};

// Validates (schemas and every factory), creates a run directory under
// <run.root>/<experiment>, records and trains, as `kiln train` does. Throws
// ConfigError before anything is written when the job is invalid.
TrainedRun train_complete_job(const CompleteJob& job);

}  // namespace kiln::cli
