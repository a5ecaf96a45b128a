// Opening the run store and everything that writes to it. Reads are in
// run_store_queries.cpp.
#include "kiln/track/run_store.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <map>

#include "kiln/error.h"
#include "kiln/track/env.h"
#include "metric_rollup.h"
#include "run_store_impl.h"
#include "run_store_schema.h"

namespace kiln::track {
namespace {

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// kill(pid, 0) fails with ESRCH only when no such process exists; EPERM
// means it exists under another user.
bool process_exists(std::int64_t pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// SQLite stores NaN as NULL; the column reads back as NaN (run_store_queries.cpp).
void bind_metric_value(sqlite::Statement& s, int index, double value) {
  if (std::isnan(value)) {
    s.bind_null(index);
  } else {
    s.bind(index, value);
  }
}

std::int64_t experiment_id(sqlite::Database& db, const std::string& name, double now) {
  sqlite::Statement insert(db, "INSERT INTO experiments (name, created) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING");
  insert.bind(1, std::string_view(name)).bind(2, now).run();
  sqlite::Statement find(db, "SELECT id FROM experiments WHERE name = ?1");
  find.bind(1, std::string_view(name));
  find.step();
  return find.int64(0);
}

void write_params(sqlite::Database& db, const std::string& run_id, const std::vector<Param>& params) {
  sqlite::Statement clear(db, "DELETE FROM params WHERE run_id = ?1");
  clear.bind(1, std::string_view(run_id)).run();
  sqlite::Statement insert(db, "INSERT OR REPLACE INTO params (run_id, key, type, value) VALUES (?1, ?2, ?3, ?4)");
  for (const Param& p : params) {
    insert.bind(1, std::string_view(run_id)).bind(2, std::string_view(p.key)).bind(3, param_type_name(p.value));
    insert.bind(4, p.value).run();
    insert.reset();
  }
}

}  // namespace

std::string_view run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kFinished: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kKilled: return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> parse_run_status(std::string_view name) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled})
    if (run_status_name(s) == name) return s;
  return std::nullopt;
}

double unix_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

RunStore::RunStore(const RunStoreOptions& options) {
  std::filesystem::path path = options.path;
  if (options.read_only) {
    if (!Env::Default().exists(path))
      throw IoError("run store '" + path.string() +
                    "' does not exist\n  hint: `kiln train` creates it; pass --store PATH for another one");
  } else if (path.has_parent_path()) {
    Env::Default().create_dirs(path.parent_path());
  }
  impl_ = std::make_unique<Impl>(options, path.string());
  sqlite::Database& db = impl_->db;
  sqlite3_busy_timeout(db.handle(), static_cast<int>(options.busy_timeout_seconds * 1000));
  if (options.read_only) {
    check_schema_version(db);
    return;
  }
  // WAL: readers never block the writer and a crash cannot corrupt the file;
  // NORMAL sync is durable against process crashes, and a power loss loses
  // at most the last transactions.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  migrate_schema(db);
  mark_stale_runs(unix_time_now());
}

RunStore::~RunStore() = default;
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;

const std::filesystem::path& RunStore::path() const { return impl_->options.path; }

int RunStore::schema_version() const { return read_schema_version(impl_->db); }

void RunStore::begin_run(const NewRun& run) {
  sqlite::Database& db = impl_->db;
  sqlite::Transaction transaction(db);
  std::int64_t experiment = experiment_id(db, run.experiment, run.start_time);
  double now = unix_time_now();
  // A resumed run keeps its start time and points; it is running again.
  sqlite::Statement upsert(db, R"sql(
    INSERT INTO runs (id, name, experiment_id, status, start_time, heartbeat, user, host, pid, git_commit,
                      sweep_id, dir, manifest)
    VALUES (?1, ?2, ?3, 'RUNNING', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
    ON CONFLICT (id) DO UPDATE SET status = 'RUNNING', error = '', end_time = NULL, heartbeat = excluded.heartbeat,
      host = excluded.host, pid = excluded.pid, manifest = excluded.manifest)sql");
  upsert.bind(1, std::string_view(run.id)).bind(2, std::string_view(run.name)).bind(3, experiment);
  upsert.bind(4, run.start_time).bind(5, now).bind(6, std::string_view(run.user)).bind(7, std::string_view(run.host));
  upsert.bind(8, run.pid).bind(9, std::string_view(run.git_commit)).bind(10, std::string_view(run.sweep_id));
  upsert.bind(11, run.dir.string()).bind(12, std::string_view(run.manifest_json)).run();
  write_params(db, run.id, run.params);
  for (const auto& [key, value] : run.tags) {
    sqlite::Statement tag(db, "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)");
    tag.bind(1, std::string_view(run.id)).bind(2, std::string_view(key)).bind(3, std::string_view(value)).run();
  }
  transaction.commit();
}

void RunStore::log_metrics(std::string_view run_id, const std::vector<MetricRow>& rows) {
  if (rows.empty()) return;
  sqlite::Database& db = impl_->db;
  sqlite::Transaction transaction(db);
  sqlite::Statement insert(db,
                           "INSERT INTO metrics (run_id, key, step, time, value) VALUES (?1, ?2, ?3, ?4, ?5) "
                           "ON CONFLICT (run_id, key, step) DO NOTHING");
  sqlite::Statement replace(db,
                            "UPDATE metrics SET time = ?4, value = ?5 WHERE run_id = ?1 AND key = ?2 AND step = ?3");
  MetricRollup rollup;
  // A replaced point is folded by rebuilding its key from the earliest
  // replaced step on, after the new points are written.
  std::map<std::string, std::int64_t> replaced_from;
  for (const MetricRow& row : rows) {
    auto bind_point = [&](sqlite::Statement& s) {
      s.bind(1, run_id).bind(2, std::string_view(row.key)).bind(3, row.point.step).bind(4, row.point.time);
      bind_metric_value(s, 5, row.point.value);
    };
    bind_point(insert);
    insert.run();
    bool is_new = sqlite3_changes(db.handle()) > 0;
    insert.reset();
    if (is_new) {
      rollup.add(row.key, row.point);
    } else {
      bind_point(replace);
      replace.run();
      replace.reset();
      auto [found, inserted] = replaced_from.try_emplace(row.key, row.point.step);
      if (!inserted) found->second = std::min(found->second, row.point.step);
    }
  }
  rollup.write(db, run_id);
  for (const auto& [key, from_step] : replaced_from) rebuild_rollup(db, run_id, key, from_step);
  transaction.commit();
}

void RunStore::log_system_metrics(std::string_view run_id, const std::vector<MetricRow>& rows) {
  if (rows.empty()) return;
  sqlite::Database& db = impl_->db;
  sqlite::Transaction transaction(db);
  sqlite::Statement insert(db,
                           "INSERT OR REPLACE INTO system_metrics (run_id, key, time, value) VALUES (?1, ?2, ?3, ?4)");
  for (const MetricRow& row : rows) {
    insert.bind(1, run_id).bind(2, std::string_view(row.key)).bind(3, row.point.time);
    bind_metric_value(insert, 4, row.point.value);
    insert.run();
    insert.reset();
  }
  transaction.commit();
}

void RunStore::heartbeat(std::string_view run_id, double now) {
  sqlite::Statement s(impl_->db, "UPDATE runs SET heartbeat = ?2 WHERE id = ?1 AND status = 'RUNNING'");
  s.bind(1, run_id).bind(2, now).run();
}

void RunStore::end_run(std::string_view run_id, RunStatus status, double end_time, std::string_view error,
                       std::string_view manifest_json) {
  sqlite::Statement s(impl_->db, R"sql(
    UPDATE runs SET status = ?2, end_time = ?3, heartbeat = ?3, error = ?4,
                    manifest = CASE WHEN ?5 = '' THEN manifest ELSE ?5 END
    WHERE id = ?1)sql");
  s.bind(1, run_id).bind(2, run_status_name(status)).bind(3, end_time).bind(4, error).bind(5, manifest_json).run();
}

void RunStore::set_tag(std::string_view run_id, std::string_view key, std::string_view value) {
  sqlite::Statement s(impl_->db, "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)");
  s.bind(1, run_id).bind(2, key).bind(3, value).run();
}

void RunStore::set_artifacts(std::string_view run_id, const std::vector<Artifact>& artifacts) {
  sqlite::Database& db = impl_->db;
  sqlite::Transaction transaction(db);
  sqlite::Statement clear(db, "DELETE FROM artifacts WHERE run_id = ?1");
  clear.bind(1, run_id).run();
  sqlite::Statement insert(db, "INSERT OR REPLACE INTO artifacts (run_id, path, size, sha256) VALUES (?1, ?2, ?3, ?4)");
  for (const Artifact& a : artifacts) {
    insert.bind(1, run_id).bind(2, std::string_view(a.path)).bind(3, static_cast<std::int64_t>(a.size));
    insert.bind(4, std::string_view(a.sha256)).run();
    insert.reset();
  }
  transaction.commit();
}

bool RunStore::delete_run(std::string_view run_id) {
  sqlite::Database& db = impl_->db;
  sqlite::Transaction transaction(db);
  for (const char* table :
       {"tags", "params", "metrics", "latest_metrics", "metric_buckets", "system_metrics", "artifacts"}) {
    sqlite::Statement s(db, std::string("DELETE FROM ") + table + " WHERE run_id = ?1");
    s.bind(1, run_id).run();
  }
  sqlite::Statement s(db, "DELETE FROM runs WHERE id = ?1");
  s.bind(1, run_id).run();
  bool deleted = sqlite3_changes(db.handle()) > 0;
  transaction.commit();
  return deleted;
}

int RunStore::mark_stale_runs(double now) {
  sqlite::Database& db = impl_->db;
  sqlite::Transaction transaction(db);
  struct Stale {
    std::string id;
    std::string why;
  };
  std::vector<Stale> stale;
  std::string host = this_host();
  sqlite::Statement running(db, "SELECT id, host, pid, heartbeat FROM runs WHERE status = 'RUNNING'");
  while (running.step()) {
    std::string run_host = running.text(1);
    std::int64_t pid = running.int64(2);
    double heartbeat = running.real(3);
    char when[64];
    std::snprintf(when, sizeof(when), "%.0f s", now - heartbeat);
    if (!host.empty() && run_host == host && !process_exists(pid)) {
      stale.push_back({running.text(0), "process " + std::to_string(pid) + " on " + run_host +
                                            " ended without recording an outcome (last heartbeat " + when + " ago)"});
    } else if (now - heartbeat > impl_->options.stale_after_seconds) {
      stale.push_back({running.text(0), "no heartbeat for " + std::string(when) + " (process " + std::to_string(pid) +
                                            " on " + run_host + " presumed dead)"});
    }
  }
  sqlite::Statement mark(db, "UPDATE runs SET status = 'FAILED', error = ?2, end_time = heartbeat WHERE id = ?1");
  for (const Stale& s : stale) {
    mark.bind(1, std::string_view(s.id)).bind(2, std::string_view(s.why)).run();
    mark.reset();
  }
  transaction.commit();
  return static_cast<int>(stale.size());
}

}  // namespace kiln::track
