// The run store: one SQLite database per runs root (runs/kiln.db) that every
// `kiln train` lands in, and that `kiln runs`, `kiln reproduce` and `kiln ui`
// read. Torch-free. docs/run-store.md describes the schema for users who
// read it with plain sqlite3.
//
// What it holds: experiments, runs (status, times, host, git commit, sweep,
// directory, manifest), tags, params (the flattened resolved config, typed),
// metrics (every point: key, step, wall time, value), a latest/min/max row
// per (run, key) kept in the same transaction as the points, system metrics
// and artifacts.
//
// Durability and concurrency: WAL journal, synchronous=NORMAL. Every write is
// one transaction, so a process killed at any moment leaves the database
// consistent with everything committed before it (a power loss may lose the
// last transactions, never corrupt). Any number of processes may write at
// once: SQLite serialises writers and a writer waits up to
// RunStoreOptions::busy_timeout for its turn; only a longer wait is an error.
//
// Status is honest: a run is RUNNING until its process ends it FINISHED,
// FAILED (with the error) or KILLED (signal). A run whose process died
// without a word (SIGKILL, power loss) stops sending heartbeats; open() marks
// it FAILED once its heartbeat is older than stale_after, or at once when it
// ran on this host and its process no longer exists.
//
// Thread safety: a RunStore is one connection; use it from one thread at a
// time. Open one per thread (RunRecorder does) to write from several.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kiln::track {

enum class RunStatus { kRunning, kFinished, kFailed, kKilled };

// "RUNNING", "FINISHED", "FAILED", "KILLED".
std::string_view run_status_name(RunStatus status);
std::optional<RunStatus> parse_run_status(std::string_view name);

// The schema version this build writes. open() migrates older stores
// forward and refuses newer ones with an error naming both versions.
inline constexpr int kRunStoreSchemaVersion = 2;

struct RunStoreOptions {
  // The database file; its directory is created when missing.
  std::filesystem::path path = "runs/kiln.db";
  // How long a write waits for other writers before failing.
  double busy_timeout_seconds = 60;
  // A RUNNING run whose heartbeat is older than this is marked FAILED.
  double stale_after_seconds = 60;
  // Open an existing store for reading only (kiln ui, kiln runs ls). Never
  // creates, migrates or marks stale runs.
  bool read_only = false;
};

// A typed config value. SQLite keeps the type, so `params.lr < 1e-3`
// compares numbers and `params.model._target_ = 'cnn'` strings.
using ParamValue = std::variant<std::monostate, bool, std::int64_t, double, std::string>;

struct Param {
  std::string key;  // dotted path: "optimizer.lr", "model.channels.0"
  ParamValue value;
};

// "null", "bool", "int", "float", "string": the params.type column.
std::string_view param_type_name(const ParamValue& value);
// The value as `kiln runs show` prints it (strings unquoted).
std::string param_text(const ParamValue& value);

struct NewRun {
  std::string id;          // the run id (track::RunId::value)
  std::string name;        // run.name, or empty
  std::string experiment;  // created in `experiments` on first use
  std::filesystem::path dir;
  double start_time = 0;  // seconds since the Unix epoch
  std::string user;
  std::string host;
  std::int64_t pid = 0;
  std::string git_commit;  // the user's project commit, or empty
  std::string sweep_id;    // the multirun this run belongs to, or empty
  std::vector<Param> params;
  std::map<std::string, std::string> tags;
  std::string manifest_json;  // .kiln/manifest.json as written at start
};

struct RunRecord {
  std::string id;
  std::string name;
  std::string experiment;
  RunStatus status = RunStatus::kRunning;
  std::string error;  // why FAILED or KILLED
  double start_time = 0;
  std::optional<double> end_time;
  double heartbeat = 0;
  std::string user;
  std::string host;
  std::int64_t pid = 0;
  std::string git_commit;
  std::string sweep_id;
  std::filesystem::path dir;
  std::map<std::string, std::string> tags;
};

struct MetricPoint {
  std::int64_t step = 0;
  double time = 0;  // wall clock, seconds since the Unix epoch
  double value = 0;
};

struct MetricRow {
  std::string key;
  MetricPoint point;
};

// The latest value of one metric of one run and its range, kept alongside
// the history so run tables never scan points.
struct MetricSummary {
  std::string key;
  MetricPoint last;
  double min = 0;
  double max = 0;
  std::int64_t count = 0;
  // min for keys that name a loss or an error ("loss", "err", "mse",
  // "mae", "perplexity" in the name), else max.
  double best() const;
};

struct Artifact {
  std::string path;  // relative to the run directory
  std::uint64_t size = 0;
  std::string sha256;  // lowercase hex
};

// Which runs list_runs returns and in which order.
struct RunQuery {
  // A filter in the `kiln runs ls --where` language (run_filter.h), e.g.
  // "metrics.val/acc > 0.9 and params.optimizer.lr < 1e-3"; empty = all.
  std::string where;
  // Comma-separated sort keys, each an attribute (start_time, duration,
  // name, id, status, experiment), metrics.<key> or params.<key>, with a
  // leading '-' for descending; empty = newest first.
  std::string sort;
  // At most this many runs; 0 = no limit.
  std::int64_t limit = 0;
};

class RunStore {
 public:
  // Opens (creating and migrating unless read_only) the store at
  // options.path and, unless read_only, marks runs whose process is gone.
  // Throws kiln::IoError naming the path and SQLite's message.
  explicit RunStore(const RunStoreOptions& options);
  ~RunStore();
  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;

  const std::filesystem::path& path() const;
  int schema_version() const;

  // ---- writing (each call is one transaction)

  // Inserts a RUNNING run with its params, tags and manifest. A run id that
  // exists already (a resumed run) is set RUNNING again, its heartbeat,
  // pid and manifest updated; its points stay.
  void begin_run(const NewRun& run);
  // Appends points; a point at a (run, key, step) already stored replaces it
  // (a resumed run re-trains from its checkpoint). Updates the summaries.
  void log_metrics(std::string_view run_id, const std::vector<MetricRow>& rows);
  void log_system_metrics(std::string_view run_id, const std::vector<MetricRow>& rows);
  void heartbeat(std::string_view run_id, double now);
  // FINISHED, FAILED or KILLED, with the error for the latter two and the
  // manifest as rewritten at the end.
  void end_run(std::string_view run_id, RunStatus status, double end_time, std::string_view error,
               std::string_view manifest_json);
  void set_tag(std::string_view run_id, std::string_view key, std::string_view value);
  // Replaces the run's artifact list.
  void set_artifacts(std::string_view run_id, const std::vector<Artifact>& artifacts);
  // Deletes the run's rows (not its directory). Returns false when absent.
  bool delete_run(std::string_view run_id);
  // RUNNING runs whose heartbeat is older than stale_after at `now`, or on
  // this host with no live process, become FAILED. Returns how many.
  int mark_stale_runs(double now);

  // ---- reading

  std::vector<RunRecord> list_runs(const RunQuery& query = {});
  std::optional<RunRecord> find_run(std::string_view run_id);
  // RUN as users type it: an id, a unique id prefix, a run name (the newest
  // run of that name), or "last" (the newest run). nullopt when nothing
  // matches; throws kiln::UsageError listing the candidates when a prefix
  // matches several runs.
  std::optional<RunRecord> resolve_run(std::string_view ref);
  std::int64_t count_runs();

  std::vector<Param> params(std::string_view run_id);
  std::vector<MetricSummary> metric_summaries(std::string_view run_id);
  // The summaries of each run of `run_ids`, in the same order, read in one
  // snapshot with one statement (a run table of 10,000 runs in one call).
  std::vector<std::vector<MetricSummary>> metric_summaries(const std::vector<std::string>& run_ids);
  // Every point of one metric in step order (system = true: a system metric,
  // in time order, with step 0). With `from`, only the points at step >=
  // from (system: time >= from): what a reader that has the rest needs.
  std::vector<MetricPoint> metric_series(std::string_view run_id, std::string_view key, bool system = false,
                                         std::optional<double> from = std::nullopt);
  // A long series thinned for drawing, from the store's step buckets (16,
  // 256, 4096 or 65536 steps each; schema in docs/run-store.md): the min and
  // max point of each bucket of the coarsest level that has at least
  // `min_buckets` buckets, in step order, plus the first and last point.
  // Every extreme survives; NaN points are left out. nullopt when even the
  // finest level has fewer buckets: read the series whole.
  std::optional<std::vector<MetricPoint>> metric_overview(std::string_view run_id, std::string_view key,
                                                          std::size_t min_buckets);
  std::vector<std::string> system_metric_keys(std::string_view run_id);
  std::vector<Artifact> artifacts(std::string_view run_id);
  // The manifest JSON text as last recorded ("" when none).
  std::string manifest(std::string_view run_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Seconds since the Unix epoch, from the system clock.
double unix_time_now();

}  // namespace kiln::track
