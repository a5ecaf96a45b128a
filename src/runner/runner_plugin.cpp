// libkiln_runner.so: the trainer behind the runner ABI (see runner_abi.h).
#include <ATen/Parallel.h>

#include "kiln/runner_abi.h"
#include "kiln/train/consolidate.h"
#include "kiln/train/generate.h"
#include "kiln/train/job.h"

namespace {

void validate(const kiln::config::Node& resolved) { kiln::validate_training_job(resolved); }

kiln::JobSummary run(const kiln::config::Node& resolved, const std::string& run_dir,
                     const std::vector<kiln::Logger*>& loggers) {
  kiln::JobResult result = kiln::run_training_job(resolved, run_dir, loggers);
  kiln::JobSummary summary{result.metrics, result.steps, result.seconds, result.samples_per_second, {}};
  for (const auto& [path, size] : result.data_files) summary.data_files.push_back({path, size});
  return summary;
}

std::string describe_runtime() { return kiln::describe_torch_runtime(); }

void generate(const kiln::GenerateRequest& request, const std::function<void(std::int64_t)>& on_token) {
  if (request.num_threads > 0) at::set_num_threads(request.num_threads);
  auto gpt = kiln::load_trained_gpt(request.resolved, request.checkpoint, request.device);
  kiln::generate(*gpt, request.prompt, request.sampling, on_token);
}

void consolidate(const kiln::config::Node& resolved, const std::string& checkpoint, const std::string& out) {
  kiln::train::consolidate_checkpoint(resolved, checkpoint, out);
}

const kiln::JobRunner kRunner{kiln::kJobRunnerAbiVersion, validate, run, describe_runtime, generate, consolidate};

}  // namespace

extern "C" __attribute__((visibility("default"))) const kiln::JobRunner* kiln_job_runner() { return &kRunner; }
