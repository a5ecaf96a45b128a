// The step-bucket pyramid behind RunStore::metric_overview, checked against
// min/max per bucket computed here from the stored points, through batches,
// replaced steps, NaN and the schema 1 -> 2 migration.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/error.h"
#include "kiln/track/run_store.h"
#include "support/temp_dir.h"

namespace kiln::track {
namespace {

using kiln::testing::TempDir;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

NewRun make_run(const std::string& id) {
  NewRun run;
  run.id = id;
  run.name = id;
  run.experiment = "exp";
  run.dir = "/runs/exp/" + id;
  run.start_time = 1000;
  return run;
}

// A wobbly series with a spike, a dip and a NaN-only stretch.
double value_at(std::int64_t step) {
  if (step == 7777) return 1e6;
  if (step == 15001) return -1e6;
  if (step >= 320 && step < 336) return kNaN;  // one whole level-1 bucket
  return std::sin(static_cast<double>(step) * 0.01) + static_cast<double>(step % 7) * 0.1;
}

// What the overview must be, from the points alone: per bucket of
// `width` steps the earliest point holding the min and the max, in step
// order, framed by the first and last point.
std::vector<MetricPoint> expected_overview(const std::vector<MetricPoint>& points, std::int64_t width) {
  std::map<std::int64_t, std::pair<std::optional<MetricPoint>, std::optional<MetricPoint>>> buckets;
  for (const MetricPoint& p : points) {
    if (std::isnan(p.value)) continue;
    auto& [low, high] = buckets[p.step / width];
    if (!low || p.value < low->value) low = p;
    if (!high || p.value > high->value) high = p;
  }
  std::vector<MetricPoint> out;
  auto append = [&out](const MetricPoint& p) {
    if (out.empty() || p.step > out.back().step) out.push_back(p);
  };
  append(points.front());
  for (auto& [bucket, extremes] : buckets) {
    auto [low, high] = extremes;
    if (high->step < low->step) std::swap(low, high);
    append(*low);
    append(*high);
  }
  append(points.back());
  return out;
}

void expect_same_points(const std::vector<MetricPoint>& actual, const std::vector<MetricPoint>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].step, expected[i].step) << "point " << i;
    ASSERT_EQ(actual[i].time, expected[i].time) << "point " << i;
    if (std::isnan(expected[i].value)) {
      ASSERT_TRUE(std::isnan(actual[i].value)) << "point " << i;
    } else {
      ASSERT_EQ(actual[i].value, expected[i].value) << "point " << i;
    }
  }
}

// 20,000 steps logged in batches of 700 (batches straddle buckets), then
// steps 9,000..9,499 logged again with other values, as a resumed run does.
void log_series(RunStore& store, const std::string& run_id) {
  std::vector<MetricRow> batch;
  for (std::int64_t step = 0; step < 20000; ++step) {
    batch.push_back({"loss", {step, 1000.0 + static_cast<double>(step), value_at(step)}});
    if (batch.size() == 700) {
      store.log_metrics(run_id, batch);
      batch.clear();
    }
  }
  store.log_metrics(run_id, batch);
  batch.clear();
  for (std::int64_t step = 9000; step < 9500; ++step)
    batch.push_back({"loss", {step, 5000.0 + static_cast<double>(step), 2e6 - static_cast<double>(step)}});
  store.log_metrics(run_id, batch);
}

TEST(MetricOverview, IsTheMinAndMaxOfEachBucketOfTheCoarsestLevelWithEnoughBuckets) {
  TempDir dir;
  RunStore store(RunStoreOptions{.path = dir.path() / "kiln.db"});
  store.begin_run(make_run("r1"));
  log_series(store, "r1");
  const std::vector<MetricPoint> points = store.metric_series("r1", "loss");
  ASSERT_EQ(points.size(), 20000u);

  // 20,000 steps: 1,250 buckets of 16, 79 of 256, 5 of 4096, 1 of 65536.
  auto fine = store.metric_overview("r1", "loss", 100);
  ASSERT_TRUE(fine.has_value());
  expect_same_points(*fine, expected_overview(points, 16));
  auto coarse = store.metric_overview("r1", "loss", 50);
  ASSERT_TRUE(coarse.has_value());
  expect_same_points(*coarse, expected_overview(points, 256));
  EXPECT_LT(coarse->size(), 2 * 79 + 2 + 1);

  // The spike, the dip and a replaced point's new value are all kept.
  auto has_value = [&](double v) {
    for (const MetricPoint& p : *coarse)
      if (p.value == v) return true;
    return false;
  };
  EXPECT_TRUE(has_value(1e6));
  EXPECT_TRUE(has_value(-1e6));
  EXPECT_TRUE(has_value(2e6 - 9000));
  // More buckets than the finest level has: read the series itself.
  EXPECT_FALSE(store.metric_overview("r1", "loss", 1251).has_value());
  EXPECT_FALSE(store.metric_overview("r1", "missing", 1).has_value());
}

// Two stores fed the same points, one of them opened first as schema 1
// (its buckets dropped, as a store made by kiln 0.4 has none): after the
// migration both serve the same overview.
TEST(MetricOverview, MigratingASchema1StoreBackfillsTheBuckets) {
  TempDir dir;
  const auto migrated = dir.path() / "migrated.db";
  const auto fresh = dir.path() / "fresh.db";
  for (const auto& path : {migrated, fresh}) {
    RunStore store(RunStoreOptions{.path = path});
    store.begin_run(make_run("r1"));
    log_series(store, "r1");
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(migrated.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE metric_buckets; PRAGMA user_version = 1", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_THROW(RunStore(RunStoreOptions{.path = migrated, .read_only = true}), IoError);
  RunStore reopened(RunStoreOptions{.path = migrated});
  EXPECT_EQ(reopened.schema_version(), 2);
  RunStore reference(RunStoreOptions{.path = fresh});
  for (std::size_t min_buckets : {1u, 50u, 100u}) {
    auto a = reopened.metric_overview("r1", "loss", min_buckets);
    auto b = reference.metric_overview("r1", "loss", min_buckets);
    ASSERT_TRUE(a && b) << min_buckets;
    expect_same_points(*a, *b);
  }
}

TEST(MetricOverview, DeletingARunDeletesItsBuckets) {
  TempDir dir;
  RunStore store(RunStoreOptions{.path = dir.path() / "kiln.db"});
  store.begin_run(make_run("r1"));
  log_series(store, "r1");
  ASSERT_TRUE(store.delete_run("r1"));
  store.begin_run(make_run("r1"));
  store.log_metrics("r1", {{"loss", {3, 1, 0.5}}});
  auto overview = store.metric_overview("r1", "loss", 1);
  ASSERT_TRUE(overview.has_value());
  ASSERT_EQ(overview->size(), 1u);
  EXPECT_EQ(overview->front().value, 0.5);
}

}  // namespace
}  // namespace kiln::track
