// Config benchmark: kiln against OmegaConf on the same files, both timed in
// this run.
//
//   1. compose + resolve the shipped default config with five overrides,
//      in-process: kiln's Composer + resolve vs OmegaConf load/merge/
//      from_dotlist/to_container(resolve=True) (bench/omegaconf_compose.py);
//   2. `kiln train --cfg job` as a whole process, wall time;
//   3. `kiln __complete` (one <Tab>), wall time.
//
// usage: kiln_config_bench [ITERATIONS]   (default 2000; the suite runs 50)
// Targets (issue #2): ratio >= 20x, in-process < 1 ms, --cfg job < 20 ms.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "kiln/config/compose.h"
#include "kiln/config/override.h"
#include "kiln/config/resolve.h"

namespace {
using Clock = std::chrono::steady_clock;
namespace cfg = kiln::config;

const std::string kConfigDir = std::string(KILN_SOURCE_DIR) + "/configs";
const std::vector<std::string> kOverrides = {"optimizer=sgd", "optimizer.lr=0.1", "trainer.max_epochs=5",
                                             "model.dropout=0.2", "seed=123"};

double kiln_compose_us(int iterations) {
  cfg::SearchPath search_path;
  search_path.add(cfg::directory_root(kConfigDir));
  cfg::Composer composer(search_path);
  auto once = [&] { return cfg::resolve(composer.compose("train", cfg::parse_overrides(kOverrides)).config); };
  cfg::Node check = once();
  if (cfg::select(check, {"run", "name"})->as_string() != "cnn-sgd-lr0.1") {
    std::fprintf(stderr, "kiln composed an unexpected config\n");
    std::exit(1);
  }
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) once();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
}

// The same with a new Composer each time, so every file is read and parsed
// again (what one `kiln train` process does once).
double kiln_cold_compose_us(int iterations) {
  cfg::SearchPath search_path;
  search_path.add(cfg::directory_root(kConfigDir));
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i)
    cfg::resolve(cfg::Composer(search_path).compose("train", cfg::parse_overrides(kOverrides)).config);
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
}

double omegaconf_compose_us(int iterations) {
  std::string command = "/usr/bin/python3 " + std::string(KILN_SOURCE_DIR) + "/bench/omegaconf_compose.py " +
                        kConfigDir + " " + std::to_string(std::max(1, iterations / 20));
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buf[64] = {};
  bool read = std::fgets(buf, sizeof buf, pipe) != nullptr;
  if (pclose(pipe) != 0 || !read) return -1;
  return std::atof(buf);
}

// Median wall time of running the kiln binary with args, in milliseconds.
double process_ms(const std::vector<std::string>& args, int runs) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    pid_t pid = fork();
    if (pid == 0) {
      std::freopen("/dev/null", "w", stdout);
      std::vector<char*> argv{const_cast<char*>(KILN_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(KILN_BINARY, argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "kiln exited with an error while benchmarking\n");
      std::exit(1);
    }
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  double kiln_us = kiln_compose_us(iterations);
  double kiln_cold_us = kiln_cold_compose_us(iterations);
  double omegaconf_us = omegaconf_compose_us(iterations);
  int runs = std::max(5, iterations / 100);
  double cfg_job_ms = process_ms({"train", "--cfg", "job", "optimizer=sgd"}, runs);
  double complete_ms = process_ms({"__complete", "train", "optimizer."}, runs);

  std::printf("compose + resolve of configs/train.yaml with 5 overrides (%d iterations)\n", iterations);
  std::printf("  kiln       %10.1f us   (one Composer: files parsed once, as in a multirun)\n", kiln_us);
  std::printf("  kiln cold  %10.1f us   (a new Composer each time: every file read and parsed)\n", kiln_cold_us);
  if (omegaconf_us > 0) {
    std::printf("  omegaconf  %10.1f us   (baseline: /usr/bin/python3, OmegaConf 2.2)\n", omegaconf_us);
    std::printf("  ratio      %10.1fx  (omegaconf / kiln cold; target >= 20x: %s)\n", omegaconf_us / kiln_cold_us,
                omegaconf_us / kiln_cold_us >= 20 ? "met" : "NOT met");
  } else {
    std::printf("  omegaconf  unavailable (is python3-omegaconf installed?)\n");
  }
  std::printf("  in-process target < 1000 us (cold): %s\n", kiln_cold_us < 1000 ? "met" : "NOT met");
  std::printf("kiln train --cfg job, whole process (median of %d): %.2f ms (target < 20 ms: %s)\n", runs, cfg_job_ms,
              cfg_job_ms < 20 ? "met" : "NOT met");
  std::printf("kiln __complete train optimizer. (median of %d): %.2f ms\n", runs, complete_ms);
  return 0;
}
