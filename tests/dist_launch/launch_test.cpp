// `kiln launch` with real worker processes (/bin/sh scripts and `kiln world`),
// `kiln world` under torchrun (Debian's torch 1.13) and under a SLURM-style
// environment: the same binary reads the same world from each.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::testing {
namespace {

namespace fs = std::filesystem;

const std::string kKiln = KILN_BINARY;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A process that exists and is not a zombie (a killed orphan stays a
// zombie until init reaps it, which a container's init may never do).
bool running(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  std::size_t state = stat.rfind(')');
  return state != std::string::npos && state + 2 < stat.size() && stat[state + 2] != 'Z';
}

// Whether the process in `pid_file` still runs a second after the launcher
// returned (SIGKILL takes effect at once, but tearing a process down not).
bool process_alive(const fs::path& pid_file) {
  std::string text = read_file(pid_file);
  if (text.empty()) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(text));
  for (int i = 0; i < 20 && running(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return running(pid);
}

TEST(KilnLaunch, GivesEveryRankTorchrunsEnvironmentPrefixedOutputAndALog) {
  TempDir dir;
  const std::string worker =
      "echo \"rank=$RANK local=$LOCAL_RANK world=$WORLD_SIZE lws=$LOCAL_WORLD_SIZE launcher=$KILN_LAUNCHER "
      "restart=$TORCHELASTIC_RESTART_COUNT port=$MASTER_PORT\"; echo \"err-$RANK\" >&2; printf no-newline-$RANK";
  CommandResult r = run_command(kKiln + " launch --nproc-per-node 3 --master-port 0 --log-dir " +
                                    shell_quote((dir.path() / "logs").string()) + " -- sh -c " + shell_quote(worker),
                                dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int rank = 0; rank < 3; ++rank) {
    const std::string expected = "rank=" + std::to_string(rank) + " local=" + std::to_string(rank) +
                                 " world=3 lws=3 launcher=kiln restart=0 port=";
    EXPECT_TRUE(contains(r.out, "[rank " + std::to_string(rank) + "] " + expected)) << r.out;
    EXPECT_TRUE(contains(r.err, "[rank " + std::to_string(rank) + "] err-" + std::to_string(rank))) << r.err;
    EXPECT_TRUE(contains(r.out, "[rank " + std::to_string(rank) + "] no-newline-" + std::to_string(rank))) << r.out;
    std::string log = read_file(dir.path() / "logs" / ("rank" + std::to_string(rank) + ".log"));
    EXPECT_TRUE(contains(log, expected)) << log;
    EXPECT_TRUE(contains(log, "err-" + std::to_string(rank))) << log;
    EXPECT_FALSE(contains(log, "[rank")) << "logs hold the worker's own lines";
  }
  EXPECT_FALSE(contains(r.out, "port=0")) << "--master-port 0 picks a real port";
}

TEST(KilnLaunch, KilnWorldReadsWhatTheLauncherSet) {
  TempDir dir;
  CommandResult r = run_command(kKiln + " launch --nproc-per-node 2 --master-port 29611 --log-dir " +
                                    shell_quote(dir.path().string()) + " -- " + kKiln + " world",
                                dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "[rank 0] launcher=kiln rank=0 local_rank=0 world_size=2 local_world_size=2")) << r.out;
  EXPECT_TRUE(contains(r.out, "[rank 1] launcher=kiln rank=1 local_rank=1 world_size=2")) << r.out;
  EXPECT_TRUE(contains(r.out, "master=127.0.0.1:29611")) << r.out;
}

// Rank 1 fails at once while rank 0 (and a process rank 0 started) would
// sleep for a minute: the launcher must stop them, report rank 1 with its
// last lines and exit with its code, and leave no process behind.
TEST(KilnLaunch, AFailingWorkerStopsTheGroupNamesItsRankAndLeavesNoOrphans) {
  TempDir dir;
  const std::string d = dir.path().string();
  const std::string worker = "echo $$ > " + d +
                             "/pid.$RANK; if [ $RANK = 1 ]; then echo 'loading shard 7' >&2; "
                             "echo 'boom: shard 7 is corrupt' >&2; exit 3; fi; sleep 60 & echo $! > " +
                             d + "/grandchild; wait";
  auto start = std::chrono::steady_clock::now();
  CommandResult r = run_command(kKiln + " launch --nproc-per-node 2 --term-timeout 5 --log-dir " + shell_quote(d) +
                                    " -- sh -c " + shell_quote(worker),
                                dir.path());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_LT(seconds, 20) << "the group was not torn down";
  EXPECT_TRUE(contains(r.err, "[kiln launch] rank 1 (pid ")) << r.err;
  EXPECT_TRUE(contains(r.err, "exited with code 3; stopping the other ranks")) << r.err;
  EXPECT_TRUE(contains(r.err, "the last 2 lines of rank 1:\n  loading shard 7\n  boom: shard 7 is corrupt")) << r.err;
  for (const char* pid_file : {"pid.0", "pid.1", "grandchild"})
    EXPECT_FALSE(process_alive(dir.path() / pid_file)) << pid_file << " still runs";
}

TEST(KilnLaunch, RestartsAFailedGroupWhileRestartsRemain) {
  TempDir dir;
  // Rank 0 fails on the first attempt only.
  const std::string worker =
      "echo \"attempt $TORCHELASTIC_RESTART_COUNT\"; "
      "if [ $RANK = 0 ] && [ $TORCHELASTIC_RESTART_COUNT = 0 ]; then exit 5; fi; exit 0";
  const std::string launch = kKiln + " launch --nproc-per-node 2 --log-dir " + shell_quote(dir.path().string());
  CommandResult once = run_command(launch + " -- sh -c " + shell_quote(worker), dir.path());
  EXPECT_EQ(once.exit_code, 5) << once.err;
  CommandResult again = run_command(launch + " --max-restarts 1 -- sh -c " + shell_quote(worker), dir.path());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.err, "restarting the group (1 of 1 restarts)")) << again.err;
  EXPECT_TRUE(contains(again.out, "[rank 0] attempt 1")) << again.out;
  EXPECT_TRUE(contains(again.out, "[rank 1] attempt 1")) << again.out;
  EXPECT_TRUE(contains(read_file(dir.path() / "rank0.log"), "--- kiln launch: restart 1 ---"));
}

TEST(KilnLaunch, ForwardsSigtermToTheWorkers) {
  TempDir dir;
  const std::string d = dir.path().string();
  const std::string worker = "trap 'echo got-term-$RANK; exit 0' TERM; echo ready; while :; do sleep 0.1; done";
  const std::string script = kKiln + " launch --nproc-per-node 2 --log-dir " + shell_quote(d) + " -- sh -c " +
                             shell_quote(worker) + " & pid=$!; for i in $(seq 100); do grep -q ready " + d +
                             "/rank0.log 2>/dev/null && grep -q ready " + d +
                             "/rank1.log 2>/dev/null && break; sleep 0.1; done; kill -TERM $pid; wait $pid; "
                             "echo launcher-exit=$?";
  CommandResult r = run_command("sh -c " + shell_quote(script), dir.path());
  EXPECT_TRUE(contains(r.out, "launcher-exit=143")) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "[rank 0] got-term-0")) << r.out;
  EXPECT_TRUE(contains(r.out, "[rank 1] got-term-1")) << r.out;
}

TEST(KilnLaunch, BadUsageIsExitCode2WithTheFlagNamed) {
  TempDir dir;
  auto run = [&](const std::string& args) { return run_command(kKiln + " launch " + args, dir.path()); };
  CommandResult zero = run("--nproc-per-node 0 -- true");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_TRUE(contains(zero.err, "--nproc-per-node must be >= 1, found 0")) << zero.err;
  CommandResult unknown = run("--nprocs 2 -- true");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "unknown flag '--nprocs'")) << unknown.err;
  CommandResult word = run("--nproc-per-node two -- true");
  EXPECT_EQ(word.exit_code, 2);
  EXPECT_TRUE(contains(word.err, "--nproc-per-node expects an integer, found 'two'")) << word.err;
  CommandResult none = run("--nproc-per-node 2");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "no worker command")) << none.err;
  CommandResult node = run("--nnodes 2 --node-rank 2 -- true");
  EXPECT_EQ(node.exit_code, 2);
  EXPECT_TRUE(contains(node.err, "--node-rank must be in 0..1")) << node.err;
  CommandResult missing = run("--log-dir " + shell_quote(dir.path().string()) + " -- /nonexistent/worker");
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_TRUE(contains(missing.err, "cannot run '/nonexistent/worker'")) << missing.err;
}

// torch 1.13's torchrun spells its flags with underscores and, under
// Python 3.11, needs -r 1 -t 1 (its default redirect setting is misparsed).
TEST(KilnWorld, ReadsTheWorldUnderTheRealTorchrun) {
  TempDir dir;
  ASSERT_TRUE(fs::exists("/usr/bin/torchrun")) << "torchrun comes with python3-torch: run scripts/install-deps.sh";
  CommandResult r = run_command(
      "cd " + shell_quote(dir.path().string()) +
          " && /usr/bin/torchrun --nproc_per_node 2 --master_port 29623 --no_python -r 1 -t 1 " + kKiln + " world",
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string all = r.out + r.err;
  EXPECT_TRUE(contains(all, "launcher=torchrun rank=0 local_rank=0 world_size=2 local_world_size=2")) << all;
  EXPECT_TRUE(contains(all, "launcher=torchrun rank=1 local_rank=1 world_size=2 local_world_size=2")) << all;
  EXPECT_TRUE(contains(all, "master=127.0.0.1:29623")) << all;
}

TEST(KilnWorld, ReadsASlurmStyleEnvironment) {
  TempDir dir;
  CommandResult r = run_command(
      "env SLURM_PROCID=1 SLURM_NTASKS=2 SLURM_LOCALID=1 SLURM_JOB_NODELIST='node[3-4]' "
      "SLURM_JOB_ID=42 " +
          kKiln + " world",
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "launcher=slurm rank=1 local_rank=1 world_size=2 local_world_size=2")) << r.out;
  EXPECT_TRUE(contains(r.out, "master=node3:15042")) << r.out;
  CommandResult bad = run_command("env RANK=1 WORLD_SIZE=1 " + kKiln + " world", dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "RANK=1 is not below WORLD_SIZE=1")) << bad.err;
}

}  // namespace
}  // namespace kiln::testing
