// `kiln launch`: starts the local workers of a distributed job with the
// environment torchrun gives them (see world.h), and watches them. Their
// output comes through prefixed with the rank and lands in one log per rank.
// When a worker fails, the whole group is torn down (no orphans, no hang)
// and, while restarts remain, started again; SIGINT/SIGTERM/SIGHUP are
// forwarded. Torch-free, POSIX.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::dist {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  // 0: a free port of this host, chosen by the launcher (single node only).
  int master_port = 29500;
  // How often a failed group is started again.
  int max_restarts = 0;
  // Each rank's output, unprefixed, in <log_dir>/rank<R>.log (appended over
  // restarts); empty: no log files.
  std::filesystem::path log_dir;
  // After SIGTERM, how long workers get to exit before SIGKILL.
  double term_timeout_seconds = 10;
  // The worker command, argv style (argv[0] searched in PATH).
  std::vector<std::string> command;
};

// A loopback port nothing listens on now (the kernel's pick for port 0):
// what --master-port 0 uses. Throws kiln::IoError.
int free_loopback_port();

// Checks `options` (counts >= 1, node_rank < nnodes, a port, a command);
// throws kiln::UsageError naming the flag.
void validate(const LaunchOptions& options);

// Runs the group until every worker exits 0 (returns 0), or a worker fails
// with no restarts left (returns its exit code, 128 + N for signal N, after
// printing its rank and last lines), or the launcher gets a signal (returns
// 128 + that signal once the workers are gone).
int launch(const LaunchOptions& options);

}  // namespace kiln::dist
