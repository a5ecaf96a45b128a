// What the run store keeps beside every metric point so that reads never
// scan a long history (private to kiln_track):
//   - latest_metrics: per (run, key) the newest point, min, max and count
//     (run tables, --where, best values);
//   - metric_buckets: per (run, key) a pyramid of step buckets, each with
//     its min and max point (the dashboard draws a million-point series
//     from a few thousand of them; min/max per bucket keeps every spike).
// Both are folded from a batch of new points in memory and written with
// one upsert per (key) and per (key, level, bucket), not one per point.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/track/run_store.h"
#include "sqlite.h"

namespace kiln::track {

// Level L groups the steps [b * 16^L, (b + 1) * 16^L): 16, 256, 4096 and
// 65536 steps a bucket. Buckets are defined by step, not by point count, so
// a resumed run or a second writer updates the same buckets.
inline constexpr int kBucketLevels = 4;
inline constexpr int kBucketShiftPerLevel = 4;

inline std::int64_t bucket_of(std::int64_t step, int level) { return step >> (kBucketShiftPerLevel * level); }

// The smallest and largest finite-or-infinite value of a set of points (NaN
// skipped), with the points that hold them, and how many points there were.
struct PointRange {
  std::optional<MetricPoint> min;
  std::optional<MetricPoint> max;
  std::int64_t count = 0;
  void add(const MetricPoint& point);
};

// New points of one run, folded per key and per bucket until write().
class MetricRollup {
 public:
  void add(const std::string& key, const MetricPoint& point);
  bool empty() const { return summaries_.empty(); }
  // Merges the folded points into latest_metrics and metric_buckets.
  void write(sqlite::Database& db, std::string_view run_id) const {
    write_summaries(db, run_id);
    write_buckets(db, run_id);
  }
  void write_summaries(sqlite::Database& db, std::string_view run_id) const;
  void write_buckets(sqlite::Database& db, std::string_view run_id) const;

 private:
  struct Summary {
    PointRange range;
    MetricPoint last;  // the point at the largest step
  };
  std::map<std::string, Summary> summaries_;
  std::map<std::pair<std::string, std::pair<int, std::int64_t>>, PointRange> buckets_;
};

// Recomputes (run, key)'s summary and its buckets holding steps >= from_step
// from the stored points: what a point replaced at an existing step needs,
// since a min or max it overwrote cannot be subtracted.
void rebuild_rollup(sqlite::Database& db, std::string_view run_id, const std::string& key, std::int64_t from_step);

// Fills metric_buckets for every stored series (the schema 1 -> 2 migration).
void backfill_metric_buckets(sqlite::Database& db);

// The min and max points of each bucket of the coarsest level that still has
// at least `min_points` of them, in step order, plus the series' first and
// last points; nullopt when even the finest level has fewer (the series is
// short enough to read whole).
std::optional<std::vector<MetricPoint>> read_bucket_overview(sqlite::Database& db, std::string_view run_id,
                                                             std::string_view key, std::size_t min_points);

}  // namespace kiln::track
