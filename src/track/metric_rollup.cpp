#include "metric_rollup.h"

#include <cmath>
#include <limits>

namespace kiln::track {
namespace {

// NaN is stored as NULL (SQLite has no NaN).
void bind_value(sqlite::Statement& s, int index, double value) {
  if (std::isnan(value)) {
    s.bind_null(index);
  } else {
    s.bind(index, value);
  }
}

double value_at(const sqlite::Statement& row, int column) {
  return row.is_null(column) ? std::numeric_limits<double>::quiet_NaN() : row.real(column);
}

// Binds a point's step, time and value at index, index + 1, index + 2 (all
// NULL when absent: a range of NaN points only).
void bind_point(sqlite::Statement& s, int index, const std::optional<MetricPoint>& point) {
  if (!point) {
    s.bind_null(index).bind_null(index + 1).bind_null(index + 2);
    return;
  }
  s.bind(index, point->step).bind(index + 1, point->time);
  bind_value(s, index + 2, point->value);
}

// An existing bucket's extremes win ties, so a re-fold keeps the earliest
// point that reached them. In an UPDATE every right-hand side sees the old
// row, so min_step and min_time are decided before min changes.
constexpr const char* kUpsertBucket = R"sql(
  INSERT INTO metric_buckets (run_id, key, level, bucket, min_step, min_time, min, max_step, max_time, max, count)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
  ON CONFLICT (run_id, key, level, bucket) DO UPDATE SET
    min_step = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min_step ELSE min_step END,
    min_time = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min_time ELSE min_time END,
    min = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min ELSE min END,
    max_step = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max_step ELSE max_step END,
    max_time = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max_time ELSE max_time END,
    max = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max ELSE max END,
    count = count + excluded.count)sql";

// min/max skip NULL (NaN); the newest step wins the `last` columns.
constexpr const char* kUpsertSummary = R"sql(
  INSERT INTO latest_metrics (run_id, key, step, time, value, min, max, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
  ON CONFLICT (run_id, key) DO UPDATE SET
    value = CASE WHEN excluded.step >= step THEN excluded.value ELSE value END,
    time = CASE WHEN excluded.step >= step THEN excluded.time ELSE time END,
    step = MAX(step, excluded.step),
    min = MIN(COALESCE(min, excluded.min), COALESCE(excluded.min, min)),
    max = MAX(COALESCE(max, excluded.max), COALESCE(excluded.max, max)),
    count = count + excluded.count)sql";

}  // namespace

void PointRange::add(const MetricPoint& point) {
  ++count;
  if (std::isnan(point.value)) return;
  if (!min || point.value < min->value) min = point;
  if (!max || point.value > max->value) max = point;
}

void MetricRollup::add(const std::string& key, const MetricPoint& point) {
  auto [found, inserted] = summaries_.try_emplace(key);
  Summary& summary = found->second;
  if (inserted || point.step >= summary.last.step) summary.last = point;
  summary.range.add(point);
  for (int level = 1; level <= kBucketLevels; ++level)
    buckets_[{key, {level, bucket_of(point.step, level)}}].add(point);
}

void MetricRollup::write_summaries(sqlite::Database& db, std::string_view run_id) const {
  sqlite::Statement summary(db, kUpsertSummary);
  for (const auto& [key, folded] : summaries_) {
    summary.bind(1, run_id).bind(2, std::string_view(key)).bind(3, folded.last.step).bind(4, folded.last.time);
    bind_value(summary, 5, folded.last.value);
    if (folded.range.min) {
      summary.bind(6, folded.range.min->value).bind(7, folded.range.max->value);
    } else {
      summary.bind_null(6).bind_null(7);
    }
    summary.bind(8, folded.range.count).run();
    summary.reset();
  }
}

void MetricRollup::write_buckets(sqlite::Database& db, std::string_view run_id) const {
  sqlite::Statement bucket(db, kUpsertBucket);
  for (const auto& [where, range] : buckets_) {
    const auto& [key, level_bucket] = where;
    bucket.bind(1, run_id).bind(2, std::string_view(key));
    bucket.bind(3, static_cast<std::int64_t>(level_bucket.first)).bind(4, level_bucket.second);
    bind_point(bucket, 5, range.min);
    bind_point(bucket, 8, range.max);
    bucket.bind(11, range.count).run();
    bucket.reset();
  }
}

void rebuild_rollup(sqlite::Database& db, std::string_view run_id, const std::string& key, std::int64_t from_step) {
  sqlite::Statement summary(db, R"sql(
    INSERT OR REPLACE INTO latest_metrics (run_id, key, step, time, value, min, max, count)
    SELECT m.run_id, m.key, m.step, m.time, m.value,
           (SELECT MIN(value) FROM metrics WHERE run_id = ?1 AND key = ?2),
           (SELECT MAX(value) FROM metrics WHERE run_id = ?1 AND key = ?2),
           (SELECT COUNT(*) FROM metrics WHERE run_id = ?1 AND key = ?2)
    FROM metrics m WHERE m.run_id = ?1 AND m.key = ?2 ORDER BY m.step DESC LIMIT 1)sql");
  summary.bind(1, run_id).bind(2, std::string_view(key)).run();

  // From the start of the coarsest bucket holding from_step: that start
  // begins a bucket at every level, so each level's rebuilt buckets are
  // whole.
  const int top_shift = kBucketShiftPerLevel * kBucketLevels;
  const std::int64_t start = (from_step >> top_shift) << top_shift;
  sqlite::Statement clear(db,
                          "DELETE FROM metric_buckets WHERE run_id = ?1 AND key = ?2 AND level = ?3 AND bucket >= ?4");
  for (int level = 1; level <= kBucketLevels; ++level) {
    clear.bind(1, run_id).bind(2, std::string_view(key)).bind(3, static_cast<std::int64_t>(level));
    clear.bind(4, bucket_of(start, level)).run();
    clear.reset();
  }
  sqlite::Statement points(
      db, "SELECT step, time, value FROM metrics WHERE run_id = ?1 AND key = ?2 AND step >= ?3 ORDER BY step");
  points.bind(1, run_id).bind(2, std::string_view(key)).bind(3, start);
  MetricRollup buckets;
  while (points.step()) buckets.add(key, {points.int64(0), points.real(1), value_at(points, 2)});
  // Only the buckets: the summary above already counts every point.
  buckets.write_buckets(db, run_id);
}

void backfill_metric_buckets(sqlite::Database& db) {
  std::vector<std::pair<std::string, std::string>> series;
  sqlite::Statement keys(db, "SELECT run_id, key FROM latest_metrics");
  while (keys.step()) series.emplace_back(keys.text(0), keys.text(1));
  for (const auto& [run_id, key] : series) rebuild_rollup(db, run_id, key, 0);
}

std::optional<std::vector<MetricPoint>> read_bucket_overview(sqlite::Database& db, std::string_view run_id,
                                                             std::string_view key, std::size_t min_points) {
  // Coarsest first: the coarse levels are small, so counting them is cheap,
  // and the first one with enough buckets is the fewest rows to read.
  sqlite::Statement count(db, "SELECT COUNT(*) FROM metric_buckets WHERE run_id = ?1 AND key = ?2 AND level = ?3");
  int level = kBucketLevels;
  for (; level >= 1; --level) {
    count.bind(1, run_id).bind(2, key).bind(3, static_cast<std::int64_t>(level));
    count.step();
    const auto buckets = static_cast<std::size_t>(count.int64(0));
    count.reset();
    if (buckets >= min_points) break;
  }
  if (level < 1) return std::nullopt;

  std::vector<MetricPoint> out;
  sqlite::Statement ends(db, R"sql(
    SELECT * FROM (SELECT step, time, value FROM metrics WHERE run_id = ?1 AND key = ?2 ORDER BY step LIMIT 1)
    UNION ALL
    SELECT * FROM (SELECT step, time, value FROM metrics WHERE run_id = ?1 AND key = ?2 ORDER BY step DESC LIMIT 1))sql");
  ends.bind(1, run_id).bind(2, key);
  std::vector<MetricPoint> first_last;
  while (ends.step()) first_last.push_back({ends.int64(0), ends.real(1), value_at(ends, 2)});

  auto append = [&out](const MetricPoint& point) {
    if (out.empty() || point.step > out.back().step) out.push_back(point);
  };
  if (!first_last.empty()) append(first_last.front());
  sqlite::Statement rows(db, R"sql(
    SELECT min_step, min_time, min, max_step, max_time, max FROM metric_buckets
    WHERE run_id = ?1 AND key = ?2 AND level = ?3 AND min IS NOT NULL ORDER BY bucket)sql");
  rows.bind(1, run_id).bind(2, key).bind(3, static_cast<std::int64_t>(level));
  while (rows.step()) {
    MetricPoint low{rows.int64(0), rows.real(1), rows.real(2)};
    MetricPoint high{rows.int64(3), rows.real(4), rows.real(5)};
    if (high.step < low.step) std::swap(low, high);
    append(low);
    append(high);
  }
  if (first_last.size() == 2) append(first_last.back());
  return out;
}

}  // namespace kiln::track
