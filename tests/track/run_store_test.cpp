// The run store against real SQLite files, and real child processes for
// concurrent writers and kill -9.
#include "kiln/track/run_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "kiln/error.h"
#include "kiln/track/params.h"
#include "kiln/track/run_recorder.h"
#include "support/temp_dir.h"

namespace kiln::track {
namespace {

using kiln::testing::TempDir;

std::string hostname() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

NewRun make_run(const std::string& id, double start = 1000) {
  NewRun run;
  run.id = id;
  run.name = "run-" + id;
  run.experiment = "exp";
  run.dir = "/runs/exp/" + id;
  run.start_time = start;
  run.user = "ada";
  run.host = hostname();
  run.pid = ::getpid();
  run.git_commit = "abc123";
  return run;
}

RunStoreOptions options_in(const TempDir& dir) { return RunStoreOptions{.path = dir.path() / "kiln.db"}; }

// Runs one SQL query through plain sqlite3, as a Python user would.
std::string query_one(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    out = text ? reinterpret_cast<const char*>(text) : "NULL";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

TEST(RunStore, RecordsARunAndReadsItBackAfterReopening) {
  TempDir dir;
  {
    RunStore store(options_in(dir));
    NewRun run = make_run("r1");
    run.params = {{"optimizer.lr", 0.001},
                  {"model._target_", std::string("cnn")},
                  {"trainer.max_epochs", std::int64_t{6}},
                  {"trainer.deterministic", true},
                  {"scheduler", std::monostate{}},
                  {"data.code", std::string("007")}};
    run.tags = {{"team", "vision"}};
    run.manifest_json = R"({"run_id":"r1"})";
    store.begin_run(run);
    store.log_metrics("r1",
                      {{"train/loss", {1, 1001, 2.5}}, {"train/loss", {2, 1002, 1.5}}, {"val/acc", {2, 1002, 0.8}}});
    store.end_run("r1", RunStatus::kFinished, 1010, "", R"({"run_id":"r1","status":"FINISHED"})");
    store.set_artifacts("r1", {{"metrics.jsonl", 12, std::string(64, 'a')}});
  }
  RunStore store(RunStoreOptions{.path = dir.path() / "kiln.db", .read_only = true});
  EXPECT_EQ(store.schema_version(), kRunStoreSchemaVersion);
  std::optional<RunRecord> run = store.find_run("r1");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->name, "run-r1");
  EXPECT_EQ(run->experiment, "exp");
  EXPECT_EQ(run->status, RunStatus::kFinished);
  EXPECT_EQ(run->start_time, 1000);
  EXPECT_EQ(run->end_time, 1010);
  EXPECT_EQ(run->git_commit, "abc123");
  EXPECT_EQ(run->tags.at("team"), "vision");

  std::vector<Param> params = store.params("r1");
  ASSERT_EQ(params.size(), 6u);  // sorted by key
  EXPECT_EQ(params[0].key, "data.code");
  EXPECT_EQ(std::get<std::string>(params[0].value), "007");  // text stays text
  EXPECT_EQ(std::get<std::string>(params[1].value), "cnn");
  EXPECT_EQ(std::get<double>(params[2].value), 0.001);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(params[3].value));
  EXPECT_EQ(std::get<bool>(params[4].value), true);
  EXPECT_EQ(std::get<std::int64_t>(params[5].value), 6);

  std::vector<MetricPoint> loss = store.metric_series("r1", "train/loss");
  ASSERT_EQ(loss.size(), 2u);
  EXPECT_EQ(loss[1].step, 2);
  EXPECT_EQ(loss[1].value, 1.5);
  EXPECT_EQ(store.manifest("r1"), R"({"run_id":"r1","status":"FINISHED"})");
  ASSERT_EQ(store.artifacts("r1").size(), 1u);
  // Plain sqlite3 reads the same store, and it is in WAL mode.
  EXPECT_EQ(query_one(dir.path() / "kiln.db", "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_one(dir.path() / "kiln.db", "SELECT value FROM params WHERE key = 'optimizer.lr'"), "0.001");
  EXPECT_EQ(query_one(dir.path() / "kiln.db", "SELECT typeof(value) FROM params WHERE key = 'trainer.max_epochs'"),
            "integer");
}

TEST(RunStore, SummariesKeepLastMinMaxAndSurviveAReplacedStep) {
  TempDir dir;
  RunStore store(options_in(dir));
  store.begin_run(make_run("r1"));
  store.log_metrics("r1", {{"val/loss", {1, 1, 3.0}}, {"val/loss", {2, 2, 1.0}}, {"val/loss", {3, 3, 2.0}}});
  store.log_metrics("r1", {{"val/loss", {4, 4, std::nan("")}}});
  std::vector<MetricSummary> summaries = store.metric_summaries("r1");
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].last.step, 4);
  EXPECT_TRUE(std::isnan(summaries[0].last.value));  // NaN is kept as NaN
  EXPECT_EQ(summaries[0].min, 1.0);                  // and does not poison min/max
  EXPECT_EQ(summaries[0].max, 3.0);
  EXPECT_EQ(summaries[0].count, 4);
  EXPECT_EQ(summaries[0].best(), 1.0);  // a loss: lower is better

  // A resumed run re-logs step 2 with another value: the point is replaced
  // and the summary recomputed, not double counted.
  store.log_metrics("r1", {{"val/loss", {2, 5, 0.5}}});
  summaries = store.metric_summaries("r1");
  EXPECT_EQ(summaries[0].count, 4);
  EXPECT_EQ(summaries[0].min, 0.5);
  EXPECT_EQ(summaries[0].last.step, 4);
  EXPECT_EQ(store.metric_series("r1", "val/loss").size(), 4u);
}

// Tags and summaries of a few runs are looked up run by run; of most of the
// store's runs (a runs table) read in one scan: both must give the same.
TEST(RunStore, ReadsTagsAndSummariesAlikeForAFewRunsAndForAll) {
  TempDir dir;
  RunStore store(options_in(dir));
  for (int i = 0; i < 20; ++i) {
    NewRun run = make_run("r" + std::to_string(100 + i), 1000 + i);
    run.tags = {{"i", std::to_string(i)}, {"team", i % 2 ? "odd" : "even"}};
    store.begin_run(run);
    store.log_metrics(run.id, {{"loss", {1, 1, 1.0 / (i + 1)}}, {"acc", {1, 1, 0.5 + i * 0.01}}});
  }
  std::vector<RunRecord> all = store.list_runs();
  std::vector<RunRecord> one = store.list_runs({.limit = 1});
  ASSERT_EQ(all.size(), 20u);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, "r119");
  EXPECT_EQ(one[0].tags, all[0].tags);
  EXPECT_EQ(one[0].tags, (std::map<std::string, std::string>{{"i", "19"}, {"team", "odd"}}));
  std::vector<std::string> ids;
  for (const RunRecord& run : all) ids.push_back(run.id);
  auto many = store.metric_summaries(ids);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto few = store.metric_summaries(ids[i]);
    ASSERT_EQ(few.size(), 2u) << ids[i];
    ASSERT_EQ(many[i].size(), 2u) << ids[i];
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(few[k].key, many[i][k].key);
      EXPECT_EQ(few[k].last.value, many[i][k].last.value) << ids[i] << " " << few[k].key;
    }
  }
  EXPECT_EQ(many[0][1].key, "loss");
  EXPECT_EQ(many[0][1].last.value, 1.0 / 20);
}

TEST(RunStore, ResolvesIdsPrefixesNamesAndLast) {
  TempDir dir;
  RunStore store(options_in(dir));
  store.begin_run(make_run("20260101-aaaa1111", 1));
  store.begin_run(make_run("20260101-aaaa2222", 2));
  NewRun named = make_run("20260102-bbbb3333", 3);
  named.name = "baseline";
  store.begin_run(named);
  EXPECT_EQ(store.resolve_run("20260101-aaaa2222")->id, "20260101-aaaa2222");
  EXPECT_EQ(store.resolve_run("20260102")->id, "20260102-bbbb3333");
  EXPECT_EQ(store.resolve_run("baseline")->id, "20260102-bbbb3333");
  EXPECT_EQ(store.resolve_run("last")->id, "20260102-bbbb3333");
  EXPECT_FALSE(store.resolve_run("nothing-like-it"));
  try {
    store.resolve_run("20260101");
    FAIL() << "an ambiguous prefix must be an error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("ambiguous"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("20260101-aaaa1111"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store.count_runs(), 3);
  EXPECT_TRUE(store.delete_run("20260101-aaaa1111"));
  EXPECT_FALSE(store.delete_run("20260101-aaaa1111"));
  EXPECT_EQ(store.count_runs(), 2);
}

TEST(RunStore, ListsRunsFilteredAndSorted) {
  TempDir dir;
  RunStore store(options_in(dir));
  for (int i = 0; i < 4; ++i) {
    NewRun run = make_run("r" + std::to_string(i), 100 + i);
    run.params = {{"optimizer.lr", 1e-4 * (i + 1)}};
    store.begin_run(run);
    store.log_metrics(run.id, {{"val/acc", {10, 110, 0.5 + 0.1 * i}}});
  }
  auto ids = [](const std::vector<RunRecord>& runs) {
    std::vector<std::string> out;
    for (const RunRecord& r : runs) out.push_back(r.id);
    return out;
  };
  EXPECT_EQ(ids(store.list_runs()), (std::vector<std::string>{"r3", "r2", "r1", "r0"}));  // newest first
  EXPECT_EQ(ids(store.list_runs({.where = "metrics.val/acc > 0.65 and params.optimizer.lr < 3.5e-4"})),
            (std::vector<std::string>{"r2"}));
  EXPECT_EQ(ids(store.list_runs({.sort = "metrics.val/acc", .limit = 2})), (std::vector<std::string>{"r0", "r1"}));
  EXPECT_THROW(store.list_runs({.where = "metrics.val/acc >"}), UsageError);
}

TEST(RunStore, MigratesAnEmptyFileAndRefusesANewerSchema) {
  TempDir dir;
  std::filesystem::path path = dir.path() / "kiln.db";
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 0", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_EQ(RunStore(RunStoreOptions{.path = path}).schema_version(), kRunStoreSchemaVersion);
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  try {
    RunStore store(RunStoreOptions{.path = path});
    FAIL() << "a newer schema must be refused";
  } catch (const IoError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("schema version 99"), std::string::npos) << message;
    EXPECT_NE(message.find("newer than this kiln's " + std::to_string(kRunStoreSchemaVersion)), std::string::npos)
        << message;
  }
  EXPECT_THROW(RunStore(RunStoreOptions{.path = dir.path() / "missing.db", .read_only = true}), IoError);
}

TEST(RunStore, MarksRunsWhoseProcessDiedWithoutAWord) {
  TempDir dir;
  RunStoreOptions options = options_in(dir);
  options.stale_after_seconds = 60;
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // a pid that no longer runs
  double now = unix_time_now();
  {
    RunStore store(options);
    NewRun dead_here = make_run("dead-here", now);
    dead_here.pid = child;
    store.begin_run(dead_here);
    NewRun silent_elsewhere = make_run("silent-elsewhere", now);
    silent_elsewhere.host = "another-host";
    store.begin_run(silent_elsewhere);
    store.heartbeat("silent-elsewhere", now - 600);
    NewRun alive_elsewhere = make_run("alive-elsewhere", now);
    alive_elsewhere.host = "another-host";
    store.begin_run(alive_elsewhere);
    store.begin_run(make_run("alive-here", now));  // this very process
  }
  RunStore store(options);  // opening marks
  EXPECT_EQ(store.find_run("dead-here")->status, RunStatus::kFailed);
  EXPECT_NE(store.find_run("dead-here")->error.find("ended without recording an outcome"), std::string::npos);
  EXPECT_EQ(store.find_run("silent-elsewhere")->status, RunStatus::kFailed);
  EXPECT_NE(store.find_run("silent-elsewhere")->error.find("no heartbeat"), std::string::npos);
  EXPECT_EQ(store.find_run("alive-elsewhere")->status, RunStatus::kRunning);
  EXPECT_EQ(store.find_run("alive-here")->status, RunStatus::kRunning);
}

// Several processes, each with its own recorder, write thousands of points
// into one store at once: nothing is lost.
TEST(RunStore, ConcurrentWriterProcessesLoseNothing) {
  TempDir dir;
  constexpr int kProcesses = 4;
  constexpr int kSteps = 2500;  // x 2 keys = 5000 points each
  RunStore(options_in(dir));    // created once, so children only migrate nothing
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t child = fork();
    if (child == 0) {
      int code = 0;
      try {
        RunRecorderOptions options{.store = options_in(dir), .flush_interval_seconds = 0.01};
        RunRecorder recorder(options, make_run("writer-" + std::to_string(p)));
        for (int step = 0; step < kSteps; ++step)
          recorder.log_metrics({{"train/loss", 1.0 / (step + 1)}, {"train/step", static_cast<double>(step)}}, step);
        recorder.end(RunStatus::kFinished, "", "");
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer %d: %s\n", p, e.what());
        code = 1;
      }
      _exit(code);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  RunStore store(options_in(dir));
  for (int p = 0; p < kProcesses; ++p) {
    std::string id = "writer-" + std::to_string(p);
    EXPECT_EQ(store.metric_series(id, "train/loss").size(), static_cast<std::size_t>(kSteps)) << id;
    EXPECT_EQ(store.metric_series(id, "train/step").size(), static_cast<std::size_t>(kSteps)) << id;
    EXPECT_EQ(store.find_run(id)->status, RunStatus::kFinished);
  }
  EXPECT_EQ(query_one(dir.path() / "kiln.db", "SELECT COUNT(*) FROM metrics"), std::to_string(kProcesses * kSteps * 2));
}

// A writer killed with SIGKILL in the middle of writing: the store opens,
// passes SQLite's integrity check, keeps every point committed before the
// kill, and the run is marked FAILED.
TEST(RunStore, KillNineDuringWritesKeepsEarlierPointsAndMarksTheRun) {
  TempDir dir;
  RunStore(options_in(dir));
  pid_t child = fork();
  if (child == 0) {
    RunRecorderOptions options{.store = options_in(dir), .flush_interval_seconds = 0.005};
    RunRecorder recorder(options, make_run("victim"));
    for (std::int64_t step = 0;; ++step) {
      recorder.log_metrics({{"train/loss", static_cast<double>(step)}}, step);
      if (step % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  // Wait until the child has committed a good number of points.
  std::int64_t seen = 0;
  for (int i = 0; i < 400 && seen < 2000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::string count = query_one(dir.path() / "kiln.db", "SELECT COUNT(*) FROM metrics");
    if (count != "<error>") seen = std::stoll(count);
  }
  ::kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_GE(seen, 2000) << "the writer never got going";

  RunStore store(options_in(dir));
  EXPECT_EQ(query_one(dir.path() / "kiln.db", "PRAGMA integrity_check"), "ok");
  std::vector<MetricPoint> points = store.metric_series("victim", "train/loss");
  EXPECT_GE(static_cast<std::int64_t>(points.size()), seen);
  for (std::size_t i = 0; i < points.size(); ++i) ASSERT_EQ(points[i].step, static_cast<std::int64_t>(i));
  EXPECT_EQ(store.find_run("victim")->status, RunStatus::kFailed);
}

TEST(RunRecorder, WritesOffTheTrainingThreadSamplesTheSystemAndEnds) {
  TempDir dir;
  RunRecorderOptions options{
      .store = options_in(dir), .flush_interval_seconds = 60, .system_metrics_interval_seconds = 0.001};
  RunRecorder recorder(options, make_run("r1"));
  recorder.log_metrics({{"train/loss", 0.5}}, 1);
  {
    RunStore reader(options_in(dir));
    EXPECT_TRUE(reader.metric_series("r1", "train/loss").empty());  // buffered, not yet written
  }
  recorder.flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the sampling interval
  recorder.flush();                                            // a second sample gives cpu_percent
  RunStore reader(options_in(dir));
  EXPECT_EQ(reader.metric_series("r1", "train/loss").size(), 1u);
  std::vector<std::string> system = reader.system_metric_keys("r1");
  EXPECT_NE(std::find(system.begin(), system.end(), "system/rss_mb"), system.end());
  EXPECT_NE(std::find(system.begin(), system.end(), "system/cpu_percent"), system.end());
  EXPECT_GT(reader.metric_series("r1", "system/rss_mb", true).front().value, 1.0);

  recorder.log_metrics({{"test/acc", 0.9}}, 2);
  recorder.end(RunStatus::kFailed, "boom", R"({"status":"FAILED"})", {{"train.log", 3, std::string(64, 'b')}});
  recorder.end(RunStatus::kFinished, "", "");  // once ended, ended
  std::optional<RunRecord> run = reader.find_run("r1");
  EXPECT_EQ(run->status, RunStatus::kFailed);
  EXPECT_EQ(run->error, "boom");
  EXPECT_EQ(reader.metric_series("r1", "test/acc").size(), 1u);  // flushed at the end
  EXPECT_EQ(reader.artifacts("r1").at(0).path, "train.log");
}

TEST(RunStore, FlattensAConfigIntoTypedParams) {
  config::Node root = config::Node::map();
  config::Node optimizer = config::Node::map();
  optimizer.set("lr", config::Node::floating(3e-4));
  optimizer.set("betas", config::Node::list());
  optimizer.find("betas")->push_back(config::Node::floating(0.9));
  root.set("optimizer", std::move(optimizer));
  root.set("seed", config::Node::integer(42));
  root.set("tags", config::Node::map());
  std::vector<Param> params = flatten_params(root);
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params[0].key, "optimizer.lr");
  EXPECT_EQ(params[1].key, "optimizer.betas.0");
  EXPECT_EQ(params[2].key, "seed");
  EXPECT_EQ(std::get<std::int64_t>(params[2].value), 42);
  EXPECT_EQ(std::get<std::string>(params[3].value), "{}");
  EXPECT_EQ(param_text(0.1), "0.1");
  EXPECT_EQ(param_text(3e-4), "0.0003");
}

}  // namespace
}  // namespace kiln::track
