// The boundary between the torch-free `kiln` command line and the trainer.
//
// LibTorch takes about half a second to load, so the `kiln` binary does not
// link it: `kiln train --cfg job`, `kiln --help` and shell completion start in
// milliseconds. When a job must actually train, kiln loads
// libkiln_runner.so (built next to it) and calls through this table.
// Both sides are built from the same sources by the same compiler in one
// build, so C++ types (Node, exceptions) cross it; abi_version guards
// against a stale library from another build.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/track/logger.h"

namespace kiln {

inline constexpr int kJobRunnerAbiVersion = 3;

// A file the job's data came from, for the run manifest.
struct JobDataFile {
  std::string path;
  std::uint64_t size = 0;
};

struct JobSummary {
  std::map<std::string, double> metrics;  // last value of every metric
  std::int64_t steps = 0;
  double seconds = 0;
  double samples_per_second = 0;
  std::vector<JobDataFile> data_files;  // what the data module read
};

struct JobRunner {
  int abi_version = kJobRunnerAbiVersion;
  // Checks every factory's parameters; throws config::ConfigError.
  void (*validate)(const config::Node& resolved) = nullptr;
  // Trains and tests; throws kiln::Error subclasses. `loggers` (owned by the
  // caller, alive until run returns) get every metric besides the job's own
  // JSONL and TensorBoard files: the CLI's run-store recorder.
  JobSummary (*run)(const config::Node& resolved, const std::string& run_dir,
                    const std::vector<Logger*>& loggers) = nullptr;
  // The numeric runtime as a JSON object's text: LibTorch version and build
  // configuration, intra-/inter-op threads, CUDA devices and versions when
  // present. Called after run (threads are set by then).
  std::string (*describe_runtime)() = nullptr;
};

// Makes `kiln train` use `runner` (linked into this binary) instead of
// loading libkiln_runner.so. Users' binaries get this by linking the CMake
// target kiln_in_process_runner (see include/kiln/cli.h); call it before
// kiln::main.
void use_in_process_runner(const JobRunner& runner);

}  // namespace kiln

// The one symbol libkiln_runner.so exports.
extern "C" const kiln::JobRunner* kiln_job_runner();
