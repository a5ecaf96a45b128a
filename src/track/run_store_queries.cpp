// Reading the run store: run tables, one run's details, metric series.
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "kiln/error.h"
#include "kiln/track/run_filter.h"
#include "kiln/track/run_store.h"
#include "metric_rollup.h"
#include "run_store_impl.h"

namespace kiln::track {
namespace {

double read_metric_value(const sqlite::Statement& row, int column) {
  return row.is_null(column) ? std::numeric_limits<double>::quiet_NaN() : row.real(column);
}

// Calls on_row(i, row) for each row of a per-run table (keyed by run_id,
// key) whose run is ids[i], in key order per run; row column 0 is run_id,
// then `columns`. Asked for a large share of the store's runs (a runs table
// of 10,000), it reads the table in one scan, which costs less than as many
// index lookups; asked for a few, it looks each one up.
template <typename OnRow>
void for_each_row_of_runs(sqlite::Database& db, const std::string& table, const std::string& columns,
                          const std::vector<std::string>& ids, OnRow&& on_row) {
  if (ids.empty()) return;
  const std::string select = "SELECT run_id, " + columns + " FROM " + table;
  sqlite::Statement total(db, "SELECT COUNT(*) FROM runs");
  total.step();
  if (ids.size() * 8 < static_cast<std::size_t>(total.int64(0))) {
    sqlite::Statement one(db, select + " WHERE run_id = ?1 ORDER BY key");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      one.bind(1, std::string_view(ids[i]));
      while (one.step()) on_row(i, one);
      one.reset();
    }
    return;
  }
  std::unordered_map<std::string_view, std::size_t> index;
  index.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
  sqlite::Statement all(db, select + " ORDER BY run_id, key");
  std::string_view current;
  std::size_t current_index = 0;
  bool wanted = false;
  std::string current_id;
  while (all.step()) {
    std::string_view id = all.text_view(0);
    if (id != current) {
      current_id.assign(id);
      current = current_id;
      auto found = index.find(current);
      wanted = found != index.end();
      if (wanted) current_index = found->second;
    }
    if (wanted) on_row(current_index, all);
  }
}

std::vector<RunRecord> select_runs(sqlite::Database& db, const std::string& where_sql,
                                   const std::vector<ParamValue>& bindings, const std::string& order_sql,
                                   std::int64_t limit) {
  std::string sql = std::string("SELECT ") + kRunColumns +
                    " FROM runs JOIN experiments ON experiments.id = runs.experiment_id WHERE (" + where_sql +
                    ") ORDER BY " + order_sql + " LIMIT ?";
  sqlite::Statement s(db, sql);
  int index = 1;
  for (const ParamValue& value : bindings) s.bind(index++, value);
  s.bind(index, limit > 0 ? limit : std::int64_t{-1});
  std::vector<RunRecord> runs;
  while (s.step()) runs.push_back(read_run_row(s));
  std::vector<std::string> ids;
  ids.reserve(runs.size());
  for (const RunRecord& run : runs) ids.push_back(run.id);
  for_each_row_of_runs(db, "tags", "key, value", ids,
                       [&](std::size_t i, const sqlite::Statement& row) { runs[i].tags[row.text(1)] = row.text(2); });
  return runs;
}

}  // namespace

RunRecord read_run_row(const sqlite::Statement& row) {
  RunRecord run;
  run.id = row.text(0);
  run.name = row.text(1);
  run.experiment = row.text(2);
  run.status = parse_run_status(row.text(3)).value_or(RunStatus::kRunning);
  run.error = row.text(4);
  run.start_time = row.real(5);
  if (!row.is_null(6)) run.end_time = row.real(6);
  run.heartbeat = row.real(7);
  run.user = row.text(8);
  run.host = row.text(9);
  run.pid = row.int64(10);
  run.git_commit = row.text(11);
  run.sweep_id = row.text(12);
  run.dir = row.text(13);
  return run;
}

std::string_view param_type_name(const ParamValue& value) {
  static constexpr std::string_view kNames[] = {"null", "bool", "int", "float", "string"};
  return kNames[value.index()];
}

std::string param_text(const ParamValue& value) {
  struct Text {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      char buffer[32];
      // The shortest text that reads back as the same double.
      for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof(buffer), "%.*g", precision, v);
        if (std::strtod(buffer, nullptr) == v) break;
      }
      return buffer;
    }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Text{}, value);
}

double MetricSummary::best() const {
  for (const char* word : {"loss", "err", "mse", "mae", "perplexity"})
    if (key.find(word) != std::string::npos) return min;
  return max;
}

std::vector<RunRecord> RunStore::list_runs(const RunQuery& query) {
  sqlite::ReadTransaction snapshot(impl_->db);
  SqlFragment where = query.where.empty() ? SqlFragment{"1", {}} : compile_run_filter(query.where);
  SqlFragment order = compile_run_sort(query.sort);
  std::vector<ParamValue> bindings = where.bindings;
  bindings.insert(bindings.end(), order.bindings.begin(), order.bindings.end());
  return select_runs(impl_->db, where.sql, bindings, order.sql, query.limit);
}

std::optional<RunRecord> RunStore::find_run(std::string_view run_id) {
  std::vector<RunRecord> runs = select_runs(impl_->db, "runs.id = ?", {std::string(run_id)}, "runs.id", 1);
  if (runs.empty()) return std::nullopt;
  return runs.front();
}

std::optional<RunRecord> RunStore::resolve_run(std::string_view ref) {
  sqlite::Database& db = impl_->db;
  constexpr const char* kNewest = "runs.start_time DESC, runs.id DESC";
  if (ref == "last") {
    std::vector<RunRecord> runs = select_runs(db, "1", {}, kNewest, 1);
    if (runs.empty()) return std::nullopt;
    return runs.front();
  }
  if (std::optional<RunRecord> exact = find_run(ref)) return exact;
  std::vector<RunRecord> prefixed =
      select_runs(db, "substr(runs.id, 1, length(?1)) = ?1", {std::string(ref)}, kNewest, 6);
  if (prefixed.size() == 1) return prefixed.front();
  if (prefixed.size() > 1) {
    std::string candidates;
    for (std::size_t i = 0; i < prefixed.size() && i < 5; ++i) candidates += "\n  " + prefixed[i].id;
    if (prefixed.size() > 5) candidates += "\n  ...";
    throw UsageError("run '" + std::string(ref) + "' is ambiguous: it begins several run ids:" + candidates +
                     "\n  hint: type more of the id");
  }
  std::vector<RunRecord> named = select_runs(db, "runs.name = ?1", {std::string(ref)}, kNewest, 1);
  if (named.empty()) return std::nullopt;
  return named.front();
}

std::int64_t RunStore::count_runs() {
  sqlite::Statement s(impl_->db, "SELECT COUNT(*) FROM runs");
  s.step();
  return s.int64(0);
}

std::vector<Param> RunStore::params(std::string_view run_id) {
  sqlite::Statement s(impl_->db, "SELECT key, type, value FROM params WHERE run_id = ?1 ORDER BY key");
  s.bind(1, run_id);
  std::vector<Param> out;
  while (s.step()) {
    ParamValue value = s.value(2);
    // Bools are stored as 0/1 (SQLite has no boolean); the type column says.
    if (s.text(1) == "bool" && std::holds_alternative<std::int64_t>(value)) value = std::get<std::int64_t>(value) != 0;
    out.push_back({s.text(0), std::move(value)});
  }
  return out;
}

std::vector<MetricSummary> RunStore::metric_summaries(std::string_view run_id) {
  return std::move(metric_summaries(std::vector<std::string>{std::string(run_id)}).front());
}

std::vector<std::vector<MetricSummary>> RunStore::metric_summaries(const std::vector<std::string>& run_ids) {
  sqlite::ReadTransaction snapshot(impl_->db);
  std::vector<std::vector<MetricSummary>> out(run_ids.size());
  for_each_row_of_runs(impl_->db, "latest_metrics", "key, step, time, value, min, max, count", run_ids,
                       [&](std::size_t i, const sqlite::Statement& row) {
                         MetricSummary m;
                         m.key = row.text(1);
                         m.last = {row.int64(2), row.real(3), read_metric_value(row, 4)};
                         m.min = read_metric_value(row, 5);
                         m.max = read_metric_value(row, 6);
                         m.count = row.int64(7);
                         out[i].push_back(std::move(m));
                       });
  return out;
}

std::vector<MetricPoint> RunStore::metric_series(std::string_view run_id, std::string_view key, bool system,
                                                 std::optional<double> from) {
  std::string sql = system ? "SELECT 0, time, value FROM system_metrics WHERE run_id = ?1 AND key = ?2"
                           : "SELECT step, time, value FROM metrics WHERE run_id = ?1 AND key = ?2";
  if (from) sql += system ? " AND time >= ?3" : " AND step >= ?3";
  sql += system ? " ORDER BY time" : " ORDER BY step";
  sqlite::Statement s(impl_->db, sql);
  s.bind(1, run_id).bind(2, key);
  if (from) s.bind(3, *from);
  std::vector<MetricPoint> out;
  while (s.step()) out.push_back({s.int64(0), s.real(1), read_metric_value(s, 2)});
  return out;
}

std::optional<std::vector<MetricPoint>> RunStore::metric_overview(std::string_view run_id, std::string_view key,
                                                                  std::size_t min_buckets) {
  sqlite::ReadTransaction snapshot(impl_->db);
  return read_bucket_overview(impl_->db, run_id, key, min_buckets);
}

std::vector<std::string> RunStore::system_metric_keys(std::string_view run_id) {
  sqlite::Statement s(impl_->db, "SELECT DISTINCT key FROM system_metrics WHERE run_id = ?1 ORDER BY key");
  s.bind(1, run_id);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::vector<Artifact> RunStore::artifacts(std::string_view run_id) {
  sqlite::Statement s(impl_->db, "SELECT path, size, sha256 FROM artifacts WHERE run_id = ?1 ORDER BY path");
  s.bind(1, run_id);
  std::vector<Artifact> out;
  while (s.step()) out.push_back({s.text(0), static_cast<std::uint64_t>(s.int64(1)), s.text(2)});
  return out;
}

std::string RunStore::manifest(std::string_view run_id) {
  sqlite::Statement s(impl_->db, "SELECT manifest FROM runs WHERE id = ?1");
  s.bind(1, run_id);
  return s.step() ? s.text(0) : std::string();
}

}  // namespace kiln::track
