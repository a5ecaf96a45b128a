// Dashboard API benchmark: the two requests the page makes that grow with
// the store, served over HTTP by a real DashboardServer, against the raw
// SQLite SELECT of the same rows in this process (what no server can beat).
//
//   1. GET /api/runs/<id>/metrics/train%2Floss?max_points=2000 on a
//      POINTS-point series (target < 100 ms);
//   2. GET /api/runs?limit=RUNS, the runs table of a store with RUNS runs,
//      each with params, tags and metric summaries (target < 200 ms).
//
// A series this long is drawn from the store's min/max step buckets
// (RunStore::metric_overview), a few thousand rows; the first request, made
// to a server that has read nothing yet, is printed on its own line. The
// baseline reads every point, as drawing from the points would.
//
// usage: kiln_ui_api_bench [POINTS] [RUNS] [--rounds R]
//        defaults: 1,000,000 points, 10,000 runs, 9 rounds
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "kiln/track/run_store.h"
#include "kiln/ui/dashboard.h"
#include "kiln/ui/http_client.h"
#include "support/temp_dir.h"

namespace {
using kiln::bench::median;

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace track = kiln::track;

constexpr const char* kSeriesRun = "series-run";
constexpr int kParamsPerRun = 12;
const char* const kSummaryKeys[] = {"train/loss", "val/acc", "val/loss"};

struct Args {
  std::int64_t points = 1'000'000;
  std::int64_t runs = 10'000;
  int rounds = 9;
};

Args parse_args(int argc, char** argv) {
  Args args;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) {
      args.rounds = std::atoi(argv[++i]);
    } else if (!arg.empty() && arg[0] != '-' && positional < 2) {
      (positional++ == 0 ? args.points : args.runs) = std::atoll(arg.c_str());
    } else {
      std::fprintf(stderr, "usage: kiln_ui_api_bench [POINTS] [RUNS] [--rounds R]\n");
      std::exit(2);
    }
  }
  if (args.points < 3 || args.runs < 1 || args.rounds < 1) {
    std::fprintf(stderr, "kiln_ui_api_bench: POINTS >= 3, RUNS >= 1, --rounds >= 1\n");
    std::exit(2);
  }
  return args;
}

// A prepared statement over the bench's own connection; exits on any error.
class Sql {
 public:
  Sql(sqlite3* db, const char* sql) : db_(db) { check(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr), "prepare"); }
  ~Sql() { sqlite3_finalize(stmt_); }
  Sql& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Sql& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Sql& real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  void run() {
    check(sqlite3_step(stmt_), "step");
    sqlite3_reset(stmt_);
  }
  bool row() {
    int rc = sqlite3_step(stmt_);
    check(rc, "step");
    return rc == SQLITE_ROW;
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  void check(int rc, const char* what) {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    std::fprintf(stderr, "sqlite %s: %s\n", what, sqlite3_errmsg(db_));
    std::exit(1);
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string run_id(std::int64_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "run-%08lld", static_cast<long long>(i));
  return id;
}

// The store: the runs table in one transaction of direct INSERTs into the
// schema RunStore created (run_store_schema.cpp), since RunStore's own calls
// are one transaction each and would make building 10,000 runs the slow
// part; the long series through RunStore::log_metrics, as a RunRecorder
// writes it, so the step buckets it is drawn from are the real ones.
void build_store(const fs::path& path, const Args& args) {
  { track::RunStore create(track::RunStoreOptions{.path = path}); }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO experiments (id, name, created) VALUES (1, 'bench', 0)", nullptr,
               nullptr, nullptr);
  {
    Sql run(db,
            "INSERT INTO runs (id, name, experiment_id, status, start_time, end_time, heartbeat, user, host, pid, "
            "dir) VALUES (?1, ?2, 1, 'FINISHED', ?3, ?3 + 600, ?3 + 600, 'bench', 'benchhost', 42, ?4)");
    Sql param(db, "INSERT INTO params (run_id, key, type, value) VALUES (?1, ?2, ?3, ?4)");
    Sql tag(db, "INSERT INTO tags (run_id, key, value) VALUES (?1, 'note', ?2)");
    Sql summary(db,
                "INSERT INTO latest_metrics (run_id, key, step, time, value, min, max, count) "
                "VALUES (?1, ?2, 999, ?3, ?4, ?4 / 2, ?4 * 2, 1000)");
    auto add_run = [&](const std::string& id, double start, bool summaries) {
      run.text(1, id).text(2, "name-" + id).real(3, start).text(4, "runs/bench/" + id).run();
      for (int p = 0; p < kParamsPerRun; ++p) {
        std::string key = "group" + std::to_string(p % 3) + ".param" + std::to_string(p);
        if (p % 2 == 0) {
          param.text(1, id).text(2, key).text(3, "float").real(4, 1e-3 * (p + 1)).run();
        } else {
          param.text(1, id).text(2, key).text(3, "string").text(4, "value-" + std::to_string(p)).run();
        }
      }
      tag.text(1, id).text(2, "bench run " + id).run();
      if (!summaries) return;
      for (const char* key : kSummaryKeys) summary.text(1, id).text(2, key).real(3, start + 600).real(4, 0.5).run();
    };
    for (std::int64_t i = 0; i < args.runs; ++i) add_run(run_id(i), 1.7e9 + static_cast<double>(i), true);
    add_run(kSeriesRun, 1.6e9, false);
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);

  track::RunStore store(track::RunStoreOptions{.path = path});
  std::vector<track::MetricRow> batch;
  for (std::int64_t step = 0; step < args.points; ++step) {
    double noise = static_cast<double>((step * 2654435761LL) % 1000) / 1e4;
    batch.push_back(
        {"train/loss",
         {step, 1.6e9 + static_cast<double>(step) * 0.01, 2.0 / (1.0 + static_cast<double>(step) * 1e-4) + noise}});
    if (batch.size() == 10'000 || step + 1 == args.points) {
      store.log_metrics(kSeriesRun, batch);
      batch.clear();
    }
  }
}

// The baselines: the rows each response is made of, SELECTed with no server.
std::size_t raw_series(sqlite3* db) {
  Sql s(db, "SELECT step, time, value FROM metrics WHERE run_id = ?1 AND key = 'train/loss' ORDER BY step");
  s.text(1, kSeriesRun);
  struct Point {
    std::int64_t step;
    double time, value;
  };
  std::vector<Point> points;
  while (s.row())
    points.push_back(
        {sqlite3_column_int64(s.get(), 0), sqlite3_column_double(s.get(), 1), sqlite3_column_double(s.get(), 2)});
  return points.size();
}

std::size_t raw_runs(sqlite3* db, std::int64_t limit) {
  std::size_t cells = 0;
  Sql runs(db,
           "SELECT runs.id, runs.name, experiments.name, runs.status, runs.error, runs.start_time, runs.end_time, "
           "runs.heartbeat, runs.user, runs.host, runs.pid, runs.git_commit, runs.sweep_id, runs.dir FROM runs "
           "JOIN experiments ON experiments.id = runs.experiment_id ORDER BY runs.start_time DESC, runs.id DESC "
           "LIMIT ?1");
  runs.integer(1, limit);
  std::vector<std::string> texts;
  while (runs.row())
    for (int c = 0; c < 14; ++c)
      if (const unsigned char* text = sqlite3_column_text(runs.get(), c))
        texts.emplace_back(reinterpret_cast<const char*>(text));
  Sql summaries(db, "SELECT run_id, key, step, time, value, min, max, count FROM latest_metrics");
  while (summaries.row()) cells += 8;
  Sql tags(db, "SELECT run_id, key, value FROM tags");
  while (tags.row()) cells += 3;
  return texts.size() + cells;
}

struct Medians {
  double first_served_ms;  // the warm-up: a cold server (no cached series yet)
  double served_ms;
  double raw_ms;
};

// Median milliseconds of `served` and `raw` over `rounds`, alternating
// which goes first, after one warm-up call of each.
Medians paired_medians(int rounds, const std::function<void()>& served, const std::function<void()>& raw) {
  auto ms = [](const std::function<void()>& once) {
    auto start = Clock::now();
    once();
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  double first_served = ms(served);
  raw();
  std::vector<double> served_ms, raw_ms;
  for (int i = 0; i < rounds; ++i) {
    if (i % 2 == 0) {
      served_ms.push_back(ms(served));
      raw_ms.push_back(ms(raw));
    } else {
      raw_ms.push_back(ms(raw));
      served_ms.push_back(ms(served));
    }
  }
  return {first_served, median(served_ms), median(raw_ms)};
}

kiln::ui::HttpClientResponse must_get(int port, const std::string& target) {
  auto response = kiln::ui::http_get("127.0.0.1", port, target);
  if (response.status != 200) {
    std::fprintf(stderr, "GET %s: %d %s\n", target.c_str(), response.status, response.body.c_str());
    std::exit(1);
  }
  return response;
}

void report(const char* what, const Medians& m, double target_ms) {
  std::printf("%s  first request %8.2f ms (cold server)\n", what, m.first_served_ms);
  std::printf("%s  served %8.2f ms  raw-select %8.2f ms  (medians; target < %.0f ms: %s)\n", what, m.served_ms,
              m.raw_ms, target_ms, m.served_ms < target_ms ? "PASS" : "MISS");
  std::printf("%s ratio served/raw-select %.3f\n", what, m.served_ms / m.raw_ms);
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  kiln::testing::TempDir scratch("kiln_bench");
  fs::path store = scratch.path() / "runs" / "kiln.db";
  auto build_start = Clock::now();
  build_store(store, args);
  std::printf("ui api: %lld-point series, %lld runs (%d params, %zu summaries each), %d rounds; built in %.1f s\n",
              static_cast<long long>(args.points), static_cast<long long>(args.runs), kParamsPerRun,
              std::size(kSummaryKeys), args.rounds, std::chrono::duration<double>(Clock::now() - build_start).count());

  kiln::ui::DashboardServer server(kiln::ui::DashboardOptions{.store = store, .port = 0});
  server.start();
  sqlite3* db = nullptr;
  sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);

  const std::string series_target = std::string("/api/runs/") + kSeriesRun + "/metrics/train%2Floss?max_points=2000";
  std::size_t series_bytes = 0, raw_points = 0;
  Medians series = paired_medians(
      args.rounds, [&] { series_bytes = must_get(server.port(), series_target).body.size(); },
      [&] { raw_points = raw_series(db); });
  std::printf("GET %s: %zu bytes of JSON from %zu points\n", series_target.c_str(), series_bytes, raw_points);
  report("series", series, 100);

  const std::int64_t total_runs = args.runs + 1;
  const std::string runs_target = "/api/runs?limit=" + std::to_string(total_runs);
  std::size_t runs_bytes = 0;
  Medians runs = paired_medians(
      args.rounds, [&] { runs_bytes = must_get(server.port(), runs_target).body.size(); },
      [&] { raw_runs(db, total_runs); });
  std::printf("GET %s: %zu bytes of JSON\n", runs_target.c_str(), runs_bytes);
  report("runs", runs, 200);

  sqlite3_close(db);
  server.stop();
  server.wait();
  return 0;
}
