// The run store's schema and its forward migrations. PRAGMA user_version
// holds the schema version; each migration takes the store from version i
// to i + 1 inside one transaction, so a store is never left half-migrated.
// Append migrations; never edit a released one (stores in the field were
// made by it). docs/run-store.md describes the tables for users.
#include "run_store_schema.h"

#include <string>
#include <vector>

#include "kiln/error.h"
#include "metric_rollup.h"

namespace kiln::track {
namespace {

// Version 1. Notes on the choices:
// - params.value and tags.value have no declared type: SQLite then keeps
//   each value's own type (an int stays an int, "007" stays text), which is
//   what typed params need. A declared NUMERIC type would coerce text.
// - metrics is WITHOUT ROWID keyed by (run, key, step): a series fetch is
//   one range scan of the primary key, never touching other runs' points,
//   and a resumed run's re-logged step replaces the old point.
// - metrics.value is NULL for NaN (SQLite cannot store NaN).
// - latest_metrics keeps the last point and the range of each (run, key),
//   updated in the same transaction as the points, so run tables and
//   --where never scan history.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created REAL NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
  error TEXT NOT NULL DEFAULT '',
  start_time REAL NOT NULL,
  end_time REAL,
  heartbeat REAL NOT NULL,
  user TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0,
  git_commit TEXT NOT NULL DEFAULT '',
  sweep_id TEXT NOT NULL DEFAULT '',
  dir TEXT NOT NULL,
  manifest TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_start ON runs (start_time);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE INDEX runs_by_name ON runs (name, start_time);
CREATE INDEX runs_by_status ON runs (status);
CREATE TABLE tags (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE params (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('null', 'bool', 'int', 'float', 'string')),
  value,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  time REAL NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;
CREATE TABLE latest_metrics (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  time REAL NOT NULL,
  value REAL,
  min REAL,
  max REAL,
  count INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE system_metrics (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  time REAL NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, key, time)
) WITHOUT ROWID;
CREATE TABLE artifacts (
  run_id TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (run_id, path)
) WITHOUT ROWID;
)sql";

// Version 2: metric_buckets, the step-bucket pyramid of every series
// (metric_rollup.h), so the dashboard reads a few thousand rows for a
// million-point series. Existing series are backfilled from their points.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE metric_buckets (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  level INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  min_step INTEGER,
  min_time REAL,
  min REAL,
  max_step INTEGER,
  max_time REAL,
  max REAL,
  count INTEGER NOT NULL,
  PRIMARY KEY (run_id, key, level, bucket)
) WITHOUT ROWID;
)sql";

struct Migration {
  const char* sql;
  void (*backfill)(sqlite::Database&);  // after sql, in the same transaction; may be null
};

const std::vector<Migration>& migrations() {
  // migrations()[i] takes a store from version i to i + 1.
  static const std::vector<Migration> steps = {{kVersion1, nullptr}, {kVersion2, backfill_metric_buckets}};
  return steps;
}

int user_version(sqlite::Database& db) {
  sqlite::Statement version(db, "PRAGMA user_version");
  version.step();
  return static_cast<int>(version.int64(0));
}

}  // namespace

int read_schema_version(sqlite::Database& db) { return user_version(db); }

void check_schema_version(sqlite::Database& db) {
  int version = user_version(db);
  if (version > kRunStoreSchemaVersion)
    throw IoError("run store '" + db.path() + "' has schema version " + std::to_string(version) +
                  ", newer than this kiln's " + std::to_string(kRunStoreSchemaVersion) +
                  "\n  hint: it was written by a newer kiln; read it with that version");
  if (version < kRunStoreSchemaVersion)
    throw IoError("run store '" + db.path() + "' has schema version " + std::to_string(version) +
                  " and is opened read-only; open it once with `kiln runs ls` (not read-only) to migrate it to " +
                  std::to_string(kRunStoreSchemaVersion));
}

void migrate_schema(sqlite::Database& db) {
  static_assert(kRunStoreSchemaVersion == 2, "add the migration to migrations()");
  // The write lock is taken before the version is read, so two processes
  // opening a new store at once migrate it once.
  sqlite::Transaction transaction(db);
  int version = user_version(db);
  if (version > kRunStoreSchemaVersion) check_schema_version(db);
  const auto& steps = migrations();
  for (int v = version; v < kRunStoreSchemaVersion; ++v) {
    const Migration& step = steps[static_cast<std::size_t>(v)];
    db.exec(step.sql);
    if (step.backfill != nullptr) step.backfill(db);
  }
  if (version != kRunStoreSchemaVersion) db.exec("PRAGMA user_version = " + std::to_string(kRunStoreSchemaVersion));
  transaction.commit();
}

}  // namespace kiln::track
