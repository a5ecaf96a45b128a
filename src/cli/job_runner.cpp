#include "job_runner.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "kiln/error.h"

namespace kiln::cli {
namespace {

std::string runner_path() {
  if (const char* path = std::getenv("KILN_RUNNER_LIBRARY"); path && *path) return path;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ((ec ? std::filesystem::path(".") : exe.parent_path()) / "libkiln_runner.so").string();
}

const JobRunner*& in_process_runner() {
  static const JobRunner* runner = nullptr;
  return runner;
}

const JobRunner& load() {
  if (const JobRunner* linked = in_process_runner()) return *linked;
  std::string path = runner_path();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    throw Error("cannot load the trainer library '" + path + "': " + dlerror() +
                "\n  hint: build the `kiln` target of a build with KILN_WITH_TORCH=ON (scripts/train.sh does), or set "
                "KILN_RUNNER_LIBRARY; `kiln train --cfg job` works without it");
  }
  using Entry = const JobRunner* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "kiln_job_runner"));
  const JobRunner* runner = entry ? entry() : nullptr;
  if (!runner || runner->abi_version != kJobRunnerAbiVersion || !runner->validate || !runner->run ||
      !runner->describe_runtime || !runner->generate || !runner->consolidate)
    throw Error("the trainer library '" + path + "' is from another build of kiln; rebuild the `kiln` target");
  return *runner;
}

}  // namespace

const JobRunner& job_runner() {
  static const JobRunner& runner = load();
  return runner;
}

}  // namespace kiln::cli

namespace kiln {

void use_in_process_runner(const JobRunner& runner) { cli::in_process_runner() = &runner; }

}  // namespace kiln
