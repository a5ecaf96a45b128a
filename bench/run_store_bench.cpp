// Run store benchmark: what recording a run costs training, both parts
// against a baseline timed in this run, rounds interleaved, medians reported.
//
//   1. logging throughput: STEPS steps of 10 metrics through a RunRecorder,
//      timed from the first log_metrics until flush() returns, against the
//      same points INSERTed by a bare SQLite loop (one transaction, one
//      prepared statement, the store's own metrics table and pragmas);
//   2. training-step slowdown: a fixed ~1 ms CPU workload per step, timed
//      with no logger and with a RunRecorder taking 10 metrics every step
//      (the kiln train defaults: flush every second, system metrics every
//      5 s). Target: logged/unlogged < 1.01 with a spare core. Measured
//      three times: with the training thread on one CPU and the recorder's
//      threads on another (the target line: a spare core, without the
//      noise of threads migrating between busy host CPUs); as the OS
//      schedules it; and with the whole process on one core, where the
//      writer's CPU time comes out of the training thread's and is the cost.
//
// usage: kiln_run_store_bench [STEPS] [--train-steps N] [--rounds R]
//        defaults: 20000 steps (200,000 points), 2000 train steps, 9 rounds
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "kiln/track/run_recorder.h"
#include "kiln/track/run_store.h"
#include "support/temp_dir.h"

namespace {
using kiln::bench::median;

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace track = kiln::track;

constexpr int kMetricsPerStep = 10;
const char* const kKeys[kMetricsPerStep] = {"train/loss",   "train/acc", "train/lr", "train/grad_norm", "train/ppl",
                                            "train/tokens", "val/loss",  "val/acc",  "time/step",       "time/data"};

struct Args {
  std::int64_t steps = 20000;
  std::int64_t train_steps = 2000;
  int rounds = 9;
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--train-steps" && i + 1 < argc) {
      args.train_steps = std::atoll(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      args.rounds = std::atoi(argv[++i]);
    } else if (!arg.empty() && arg[0] != '-') {
      args.steps = std::atoll(arg.c_str());
    } else {
      std::fprintf(stderr, "usage: kiln_run_store_bench [STEPS] [--train-steps N] [--rounds R]\n");
      std::exit(2);
    }
  }
  if (args.steps < 1 || args.train_steps < 1 || args.rounds < 1) {
    std::fprintf(stderr, "kiln_run_store_bench: STEPS, --train-steps and --rounds must be >= 1\n");
    std::exit(2);
  }
  return args;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

track::NewRun bench_run(const std::string& id, const fs::path& dir) {
  track::NewRun run;
  run.id = id;
  run.name = id;
  run.experiment = "bench";
  run.dir = dir / id;
  run.start_time = track::unix_time_now();
  run.params = {{"optimizer.lr", 1e-3}, {"trainer.max_epochs", std::int64_t{10}}};
  return run;
}

double metric_value(std::int64_t step, int k) { return 1.0 / (1.0 + static_cast<double>(step) + k); }

// ---- 1. throughput

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite: %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

// The baseline: the same points into a table shaped like the store's
// metrics table, with the store's pragmas, by the plainest SQLite loop.
double raw_sqlite_seconds(const fs::path& file, std::int64_t steps) {
  sqlite3* db = nullptr;
  check(sqlite3_open(file.c_str(), &db), db, "open");
  check(sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                     "CREATE TABLE metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,"
                     " time REAL NOT NULL, value REAL, PRIMARY KEY (run_id, key, step)) WITHOUT ROWID",
                     nullptr, nullptr, nullptr),
        db, "schema");
  const std::string run_id = "raw-sqlite-run";
  auto start = Clock::now();
  check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db, "INSERT INTO metrics (run_id, key, step, time, value) VALUES (?1, ?2, ?3, ?4, ?5)", -1,
                           &insert, nullptr),
        db, "prepare");
  for (std::int64_t step = 0; step < steps; ++step) {
    double now = track::unix_time_now();
    for (int k = 0; k < kMetricsPerStep; ++k) {
      sqlite3_bind_text(insert, 1, run_id.data(), static_cast<int>(run_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, 2, kKeys[k], -1, SQLITE_STATIC);
      sqlite3_bind_int64(insert, 3, step);
      sqlite3_bind_double(insert, 4, now);
      sqlite3_bind_double(insert, 5, metric_value(step, k));
      check(sqlite3_step(insert), db, "insert");
      sqlite3_reset(insert);
    }
  }
  sqlite3_finalize(insert);
  check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  double elapsed = seconds_since(start);
  sqlite3_close(db);
  return elapsed;
}

double recorder_seconds(const fs::path& store, std::int64_t steps) {
  track::RunRecorderOptions options;
  options.store.path = store;
  options.system_metrics_interval_seconds = 0;  // points only, like the baseline
  track::RunRecorder recorder(options, bench_run("recorder-run", store.parent_path()));
  kiln::Metrics metrics;
  auto start = Clock::now();
  for (std::int64_t step = 0; step < steps; ++step) {
    for (int k = 0; k < kMetricsPerStep; ++k) metrics[kKeys[k]] = metric_value(step, k);
    recorder.log_metrics(metrics, step);
  }
  recorder.flush();
  double elapsed = seconds_since(start);
  recorder.end(track::RunStatus::kFinished, "", "");
  return elapsed;
}

// ---- 2. step slowdown

// The "training step": a deterministic float matrix multiply loop, repeated
// `reps` times; its checksum keeps the compiler from dropping it.
constexpr int kN = 48;
float g_a[kN * kN], g_b[kN * kN], g_c[kN * kN];
volatile float g_sink = 0;

void workload(int reps) {
  for (int r = 0; r < reps; ++r) {
    for (int i = 0; i < kN; ++i)
      for (int j = 0; j < kN; ++j) {
        float sum = 0;
        for (int k = 0; k < kN; ++k) sum += g_a[i * kN + k] * g_b[k * kN + j];
        g_c[i * kN + j] = sum;
      }
    g_a[r % (kN * kN)] += g_c[(r * 7) % (kN * kN)] * 1e-9f;
  }
  g_sink = g_sink + g_c[0];
}

// Repetitions that make one step take about a millisecond here.
int calibrate_reps() {
  for (int i = 0; i < kN * kN; ++i) {
    g_a[i] = static_cast<float>((i * 37) % 101) / 101.0f;
    g_b[i] = static_cast<float>((i * 53) % 97) / 97.0f;
  }
  workload(10);  // warm
  std::vector<double> per_rep;
  for (int i = 0; i < 5; ++i) {
    auto start = Clock::now();
    workload(20);
    per_rep.push_back(seconds_since(start) / 20);
  }
  return std::max(1, static_cast<int>(1e-3 / median(per_rep)));
}

double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct StepTime {
  double wall = 0;               // seconds per step
  double cpu = 0;                // the training thread's CPU seconds per step
  double logging = 0;            // seconds per step inside log_metrics
  double other_threads_cpu = 0;  // CPU seconds per step of the process's other threads
};

// Time per step over `steps` steps; logs 10 metrics a step when given a
// recorder. The CPU of other threads counts the recorder's final flush of
// the points still queued (the rest of their cost); the wall time counts it
// only with flush_in_wall, since on a spare core it overlaps the next steps.
StepTime step_seconds(std::int64_t steps, int reps, track::RunRecorder* recorder, bool flush_in_wall = false) {
  kiln::Metrics metrics;
  double cpu_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  double process_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  double logging = 0;
  auto start = Clock::now();
  for (std::int64_t step = 0; step < steps; ++step) {
    workload(reps);
    if (recorder != nullptr) {
      auto log_start = Clock::now();
      for (int k = 0; k < kMetricsPerStep; ++k) metrics[kKeys[k]] = g_c[k] + static_cast<double>(step);
      recorder->log_metrics(metrics, step);
      logging += seconds_since(log_start);
    }
  }
  double wall = seconds_since(start);
  if (recorder != nullptr) recorder->flush();
  if (flush_in_wall) wall = seconds_since(start);
  double n = static_cast<double>(steps);
  double thread_cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  double process_cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_start;
  return {wall / n, thread_cpu / n, logging / n, (process_cpu - thread_cpu) / n};
}

// The CPUs this process may use, in order.
std::vector<int> allowed_cpus() {
  cpu_set_t set{};
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

// Pins the calling thread (only it: threads it starts later inherit this).
void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

StepTime logged_step_seconds(const fs::path& store, std::int64_t steps, int reps, int round, bool flush_in_wall) {
  track::RunRecorderOptions options;  // the kiln train defaults
  options.store.path = store;
  track::RunRecorder recorder(options, bench_run("logged-" + std::to_string(round), store.parent_path()));
  StepTime per_step = step_seconds(steps, reps, &recorder, flush_in_wall);
  recorder.end(track::RunStatus::kFinished, "", "");
  return per_step;
}

// Rounds of unlogged and logged steps, back to back, alternating which goes
// first; returns the median of the rounds' ratios (a slow minute on a
// shared machine moves both halves of a round). With one_core, the process
// runs on a single CPU for the rounds, the recorder's threads included
// (they inherit the affinity of the thread that starts them).
double step_slowdown(const Args& args, int reps, const fs::path& store, const char* condition, bool one_core) {
  cpu_set_t all{};
  sched_getaffinity(0, sizeof all, &all);
  if (one_core) pin_this_thread(allowed_cpus().front());
  std::printf("\nstep slowdown %s\n  %lld steps of %d x %dx%d matmul per step, %d metrics logged per step, %d rounds\n",
              condition, static_cast<long long>(args.train_steps), reps, kN, kN, kMetricsPerStep, args.rounds);
  std::vector<double> unlogged, logged, ratios, cpu_ratios, logging, writer;
  for (int round = 1; round <= args.rounds; ++round) {
    bool unlogged_first = round % 2 == 1;
    StepTime plain, with_logger;
    for (int i = 0; i < 2; ++i) {
      if ((i == 0) == unlogged_first) {
        plain = step_seconds(args.train_steps, reps, nullptr);
      } else {
        with_logger = logged_step_seconds(store, args.train_steps, reps, round + (one_core ? 1000 : 0), one_core);
      }
    }
    unlogged.push_back(plain.wall);
    logged.push_back(with_logger.wall);
    ratios.push_back(with_logger.wall / plain.wall);
    cpu_ratios.push_back(with_logger.cpu / plain.cpu);
    logging.push_back(with_logger.logging);
    writer.push_back(with_logger.other_threads_cpu);
    std::printf("  round %d  unlogged %.4f ms/step   logged %.4f ms/step   ratio %.4f   (thread CPU ratio %.4f)\n",
                round, plain.wall * 1e3, with_logger.wall * 1e3, ratios.back(), cpu_ratios.back());
  }
  sched_setaffinity(0, sizeof all, &all);
  std::printf("median  unlogged %.4f ms/step  (baseline: the workload alone)\n", median(unlogged) * 1e3);
  std::printf("median  logged   %.4f ms/step  (RunRecorder, kiln train defaults)\n", median(logged) * 1e3);
  std::printf("  (training thread CPU time: median ratio %.4f; blind to waiting for a core)\n", median(cpu_ratios));
  std::printf("  (inside log_metrics: %.2f us/step, %.3f%% of a logged step)\n", median(logging) * 1e6,
              100 * median(logging) / median(logged));
  std::printf("  (the writer and sampler threads: %.2f us CPU/step, %.2f%% of an unlogged step)\n",
              median(writer) * 1e6, 100 * median(writer) / median(unlogged));
  return median(ratios);
}

// With a spare core, the training thread's slowdown is log_metrics' own
// time plus whatever the writer on the other CPU does to shared caches, and
// this VM's CPU speed drifts by up to 2x over seconds, far more than the
// 1% to be resolved. So this measurement keeps one recorder (threads on
// `recorder_cpu`) for its whole length and alternates blocks of
// kBlockSteps logged and unlogged steps on `training_cpu`: each pair of
// blocks is 0.1 to 0.2 s apart, too close for the drift to move one more
// than the other. The writer's flushes land in either kind of block, so
// their cache effect is shared between both halves rather than charged to
// the logged one; on a spare core it is small (the one-core line shows the
// writer's whole cost). Returns the median of the pairs' ratios.
double paired_block_slowdown(const Args& args, int reps, const fs::path& store, int training_cpu, int recorder_cpu) {
  constexpr std::int64_t kBlockSteps = 100;
  const std::int64_t pairs = std::max<std::int64_t>(5, args.train_steps * args.rounds / (2 * kBlockSteps));
  std::printf(
      "\nstep slowdown with a spare core: the training thread on CPU %d, the recorder's threads on CPU %d\n"
      "  %lld pairs of %lld-step blocks (logged, unlogged; order alternating), one recorder throughout,\n"
      "  %d x %dx%d matmul per step, %d metrics logged per logged step\n",
      training_cpu, recorder_cpu, static_cast<long long>(pairs), static_cast<long long>(kBlockSteps), reps, kN, kN,
      kMetricsPerStep);
  track::RunRecorderOptions options;  // the kiln train defaults
  options.store.path = store;
  pin_this_thread(recorder_cpu);
  track::RunRecorder recorder(options, bench_run("paired-blocks", store.parent_path()));
  pin_this_thread(training_cpu);
  kiln::Metrics metrics;
  std::int64_t logged_steps = 0;
  double logged_seconds = 0, unlogged_seconds = 0, logging = 0;
  auto block = [&](bool logged) {
    auto start = Clock::now();
    for (std::int64_t i = 0; i < kBlockSteps; ++i) {
      workload(reps);
      if (!logged) continue;
      auto log_start = Clock::now();
      for (int k = 0; k < kMetricsPerStep; ++k) metrics[kKeys[k]] = g_c[k] + static_cast<double>(logged_steps);
      recorder.log_metrics(metrics, logged_steps++);
      logging += seconds_since(log_start);
    }
    return seconds_since(start);
  };
  std::vector<double> ratios;
  const double thread_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  const double process_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  for (std::int64_t pair = 0; pair < pairs; ++pair) {
    double logged = 0, unlogged = 0;
    if (pair % 2 == 0) {
      logged = block(true);
      unlogged = block(false);
    } else {
      unlogged = block(false);
      logged = block(true);
    }
    logged_seconds += logged;
    unlogged_seconds += unlogged;
    ratios.push_back(logged / unlogged);
  }
  recorder.flush();
  const double others_cpu =
      cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_start - (cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread_start);
  recorder.end(track::RunStatus::kFinished, "", "");
  std::sort(ratios.begin(), ratios.end());
  const auto quantile = [&](double q) { return ratios[static_cast<std::size_t>(q * (ratios.size() - 1))]; };
  const double n = static_cast<double>(pairs * kBlockSteps);
  std::printf("  pair ratios: 10%% %.4f  25%% %.4f  median %.4f  75%% %.4f  90%%  %.4f\n", quantile(0.1),
              quantile(0.25), quantile(0.5), quantile(0.75), quantile(0.9));
  std::printf("mean    unlogged %.4f ms/step  (baseline: the workload alone)\n", unlogged_seconds / n * 1e3);
  std::printf("mean    logged   %.4f ms/step  (RunRecorder, kiln train defaults)\n", logged_seconds / n * 1e3);
  std::printf("  (totals: logged/unlogged %.4f; inside log_metrics: %.2f us/step, %.3f%% of a logged step)\n",
              logged_seconds / unlogged_seconds, logging / n * 1e6, 100 * logging / logged_seconds);
  std::printf("  (the writer and sampler threads: %.2f us CPU per logged step, on the other CPU)\n",
              others_cpu / n * 1e6);
  return quantile(0.5);
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  kiln::testing::TempDir scratch("kiln_bench");
  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }

  const double points = static_cast<double>(args.steps * kMetricsPerStep);
  std::printf("run store throughput: %lld steps x %d metrics = %.0f points, %d rounds (1-min load %.2f)\n",
              static_cast<long long>(args.steps), kMetricsPerStep, points, args.rounds, load);
  std::vector<double> raw_rates, recorder_rates;
  for (int round = 1; round <= args.rounds; ++round) {
    fs::path dir = scratch.path() / ("throughput-" + std::to_string(round));
    fs::create_directories(dir);
    // Alternate which goes first, so neither always gets the warmer cache.
    bool raw_first = round % 2 == 1;
    double raw = 0, recorded = 0;
    for (int i = 0; i < 2; ++i) {
      if ((i == 0) == raw_first) {
        raw = raw_sqlite_seconds(dir / "raw.db", args.steps);
      } else {
        recorded = recorder_seconds(dir / "kiln.db", args.steps);
      }
    }
    raw_rates.push_back(points / raw);
    recorder_rates.push_back(points / recorded);
    std::printf("  round %d  raw-sqlite %10.0f points/s   recorder %10.0f points/s\n", round, points / raw,
                points / recorded);
    fs::remove_all(dir);
  }
  double raw_rate = median(raw_rates), recorder_rate = median(recorder_rates);
  std::printf("median  raw-sqlite %10.0f points/s  (baseline: one transaction of prepared INSERTs)\n", raw_rate);
  std::printf("median  recorder   %10.0f points/s  (RunRecorder::log_metrics until flush() returns)\n", recorder_rate);
  std::printf("points/s ratio recorder/raw-sqlite %.3f\n", recorder_rate / raw_rate);

  int reps = calibrate_reps();
  fs::path store = scratch.path() / "steps" / "kiln.db";
  fs::create_directories(store.parent_path());
  step_seconds(std::min<std::int64_t>(args.train_steps, 200), reps, nullptr);  // warm
  if (allowed_cpus().size() < 2) {
    std::fprintf(stderr, "kiln_run_store_bench: the step slowdown needs 2 CPUs (one spare for the writer)\n");
    return 1;
  }
  const std::vector<int> cpus = allowed_cpus();
  cpu_set_t all{};
  sched_getaffinity(0, sizeof all, &all);
  const double spare = paired_block_slowdown(args, reps, store, cpus[0], cpus[1]);
  sched_setaffinity(0, sizeof all, &all);
  const double scheduled = step_slowdown(args, reps, store, "as scheduled: the OS places every thread", false);
  const double one_core =
      step_slowdown(args, reps, store, "on one core: the writer thread shares the training thread's core", true);
  std::printf("step time ratio logged/unlogged %.4f (target < 1.01 with a spare core: %s)\n", spare,
              spare < 1.01 ? "PASS" : "MISS");
  std::printf("step time ratio logged/unlogged as scheduled %.4f (host noise included)\n", scheduled);
  std::printf("step time ratio logged/unlogged on one core %.4f (no spare core: the writer's CPU is the cost)\n",
              one_core);
  return 0;
}
