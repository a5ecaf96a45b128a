// diff_runs on two runs of a real store that differ in config, environment
// and metrics: what `kiln runs diff` and the dashboard's diff view print.
#include "kiln/track/run_diff.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace kiln::track {
namespace {

using kiln::testing::TempDir;

// A manifest shaped like the one RunManifest writes (docs/runs.md).
std::string manifest(const std::string& commit, const std::string& libtorch, const std::string& data_sha) {
  return R"({"status":"FINISHED","kiln":{"version":"0.4.0","commit":")" + commit + R"("},"host":{"hostname":"box-)" +
         commit + R"(","cpu":"Xeon"},"runtime":{"libtorch":")" + libtorch +
         R"("},"data":[{"path":"train-images","sha256":")" + data_sha +
         R"("},{"path":"labels","sha256":"same"}],"environment":{"KILN_RUN_ID":")" + commit + R"("}})";
}

NewRun run(const std::string& id, std::vector<Param> params, std::string manifest_json) {
  NewRun r;
  r.id = id;
  r.name = id;
  r.experiment = "exp";
  r.dir = "/runs/exp/" + id;
  r.start_time = 1000;
  r.params = std::move(params);
  r.manifest_json = std::move(manifest_json);
  return r;
}

const ValueChange* find(const std::vector<ValueChange>& changes, const std::string& key) {
  for (const ValueChange& c : changes)
    if (c.key == key) return &c;
  return nullptr;
}

TEST(RunDiff, NamesEveryConfigEnvironmentAndMetricDifference) {
  TempDir dir;
  RunStore store(RunStoreOptions{.path = dir.path() / "kiln.db"});
  store.begin_run(run("a",
                      {{"optimizer.lr", 0.001},
                       {"trainer.max_epochs", std::int64_t{5}},
                       {"model._target_", std::string("mlp")},
                       {"run.name", std::string("a")},
                       {"only.in_a", true}},
                      manifest("c0ffee", "1.13.1", "aaa")));
  store.begin_run(run("b",
                      {{"optimizer.lr", 0.003},
                       {"trainer.max_epochs", std::int64_t{5}},
                       {"model._target_", std::string("mlp")},
                       {"run.name", std::string("b")}},
                      manifest("decade", "2.11.0", "bbb")));
  store.log_metrics("a", {{"val/acc", {1, 10, 0.80}}, {"val/acc", {2, 11, 0.85}}, {"train/loss", {2, 11, 0.4}}});
  store.log_metrics("b", {{"val/acc", {1, 10, 0.70}}, {"val/acc", {2, 11, 0.90}}});

  RunDiff diff = diff_runs(store, *store.find_run("a"), *store.find_run("b"));

  // Config: only what changed, old → new; a key on one side only is nullopt
  // on the other; run.name differs by construction and is left out.
  ASSERT_EQ(diff.params.size(), 2u);
  const ValueChange* lr = find(diff.params, "optimizer.lr");
  ASSERT_NE(lr, nullptr);
  EXPECT_EQ(lr->a, "0.001");
  EXPECT_EQ(lr->b, "0.003");
  const ValueChange* only_a = find(diff.params, "only.in_a");
  ASSERT_NE(only_a, nullptr);
  EXPECT_EQ(only_a->a, "true");
  EXPECT_FALSE(only_a->b.has_value());

  // Environment: kiln commit, LibTorch and the changed data file; not the
  // identical data file, the CPU, the hostname or the run id.
  EXPECT_EQ(find(diff.environment, "kiln.commit")->b, "decade");
  EXPECT_EQ(find(diff.environment, "runtime.libtorch")->a, "1.13.1");
  const ValueChange* data = find(diff.environment, "data.train-images.sha256");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->a, "aaa");
  EXPECT_EQ(data->b, "bbb");
  EXPECT_EQ(find(diff.environment, "data.labels.sha256"), nullptr);
  EXPECT_EQ(find(diff.environment, "host.cpu"), nullptr);
  EXPECT_EQ(find(diff.environment, "host.hostname"), nullptr);
  EXPECT_EQ(diff.environment.size(), 3u);

  // Metrics: every key either run logged, with last and best deltas where
  // both have it.
  ASSERT_EQ(diff.metrics.size(), 2u);
  EXPECT_EQ(diff.metrics[0].key, "train/loss");
  EXPECT_FALSE(diff.metrics[0].b.has_value());
  EXPECT_FALSE(diff.metrics[0].last_delta().has_value());
  EXPECT_EQ(diff.metrics[1].key, "val/acc");
  EXPECT_NEAR(*diff.metrics[1].last_delta(), 0.05, 1e-12);
  EXPECT_NEAR(*diff.metrics[1].best_delta(), 0.05, 1e-12);  // val/acc is maximised: 0.90 vs 0.85

  JsonValue json = run_diff_json(diff);
  EXPECT_EQ(json.find("params")->items().size(), 2u);
  EXPECT_EQ(json.find("environment")->items().size(), 3u);
  EXPECT_TRUE(json.find("metrics")->items()[0].find("last_delta")->is_null());
}

TEST(RunDiff, IdenticalRunsHaveNoParamOrEnvironmentChanges) {
  TempDir dir;
  RunStore store(RunStoreOptions{.path = dir.path() / "kiln.db"});
  store.begin_run(run("a", {{"optimizer.lr", 0.001}}, manifest("c0ffee", "1.13.1", "aaa")));
  store.begin_run(run("b", {{"optimizer.lr", 0.001}}, manifest("c0ffee", "1.13.1", "aaa")));
  RunDiff diff = diff_runs(store, *store.find_run("a"), *store.find_run("b"));
  EXPECT_TRUE(diff.params.empty());
  EXPECT_TRUE(diff.environment.empty());
  EXPECT_TRUE(diff.metrics.empty());
}

TEST(RunDiff, AnUnreadableManifestIsADifferenceNotACrash) {
  auto env = manifest_environment("{not json");
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].first, "manifest");
  EXPECT_TRUE(manifest_environment("").empty());
}

}  // namespace
}  // namespace kiln::track
