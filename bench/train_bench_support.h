// What the training benchmarks share: the job config they build from, child
// processes measured with wait4, and medians.
//
// Both benches build model, optimizer, data and trainer options from the
// shipped configs/train.yaml (with overrides), the way `kiln train` does, so
// they follow the job's defaults when those change; that includes binding
// `data.dataset` to its verified local copy.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "dataset_binding.h"
#include "kiln/config/compose.h"
#include "kiln/config/override.h"
#include "kiln/config/resolve.h"
#include "kiln/config/search_path.h"

namespace kiln::bench {

// configs/train.yaml of this source tree, composed with `overrides`,
// resolved, and with its catalog dataset made local as `kiln train` does.
inline config::Node job_config(const std::vector<std::string>& overrides) {
  config::SearchPath search_path;
  search_path.add(config::directory_root(std::string(KILN_SOURCE_DIR) + "/configs"));
  config::Composer composer(search_path);
  config::Node resolved = config::resolve(composer.compose("train", config::parse_overrides(overrides)).config);
  return cli::bind_dataset(resolved).runnable;
}

// The value after the flag argv[i] (i moves onto it); a flag last on the
// line is a usage error (exit 2).
inline std::string flag_value(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s needs a value\n", argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

struct ChildResult {
  int exit_code = -1;     // -1: killed by a signal or not started
  std::string output;     // its stdout
  long peak_rss_kib = 0;  // ru_maxrss from wait4
};

// Runs `argv` (argv[0] is the program path) with stdout captured; stderr is
// inherited. The peak RSS is the child's own (wait4), which for a fork +
// exec includes the pages it shared with this process before exec: keep the
// parent small.
inline ChildResult run_child(const std::vector<std::string>& args) {
  ChildResult result;
  int fds[2];
  if (pipe(fds) != 0) return result;
  pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  result.peak_rss_kib = usage.ru_maxrss;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The value after "key=" in a child's output line, or NaN.
inline double field(const std::string& output, const std::string& key) {
  std::size_t at = output.find(key + "=");
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::atof(output.c_str() + at + key.size() + 1);
}

// A fresh directory under the temp dir, for a run's checkpoints and logs.
inline std::filesystem::path temp_run_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (!mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return pattern;
}

}  // namespace kiln::bench
