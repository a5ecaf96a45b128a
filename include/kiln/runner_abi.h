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
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/track/logger.h"
#include "kiln/train/sampling_options.h"

namespace kiln {

inline constexpr int kJobRunnerAbiVersion = 5;

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

// What `kiln generate` asks the runner to sample.
struct GenerateRequest {
  config::Node resolved;             // the run's resolved config (.kiln/resolved.yaml)
  std::string checkpoint;            // a checkpoint directory of that run
  std::string device;                // "cpu", "cuda", "cuda:1"
  int num_threads = 0;               // intra-op threads; 0: LibTorch's default
  std::vector<std::int64_t> prompt;  // token ids
  SamplingOptions sampling;
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
  // Samples from a trained GPT (kiln/train/generate.h), calling on_token with
  // each new token id as it is chosen. Throws kiln::Error subclasses.
  void (*generate)(const GenerateRequest& request, const std::function<void(std::int64_t)>& on_token) = nullptr;
  // Writes checkpoint `checkpoint` of the run whose resolved config is
  // `resolved` as one .safetensors file at `out` (kiln/train/consolidate.h).
  void (*consolidate)(const config::Node& resolved, const std::string& checkpoint, const std::string& out) = nullptr;
};

// Makes `kiln train` use `runner` (linked into this binary) instead of
// loading libkiln_runner.so. Users' binaries get this by linking the CMake
// target kiln_in_process_runner (see include/kiln/cli.h); call it before
// kiln::main.
void use_in_process_runner(const JobRunner& runner);

}  // namespace kiln

// The one symbol libkiln_runner.so exports.
extern "C" const kiln::JobRunner* kiln_job_runner();
