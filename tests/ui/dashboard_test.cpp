// The dashboard's JSON API over real HTTP: a real RunStore in a temp dir, a
// DashboardServer on an ephemeral loopback port, requests with http_get.
#include "kiln/ui/dashboard.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>

#include "kiln/track/json.h"
#include "kiln/track/run_store.h"
#include "kiln/ui/http_client.h"
#include "support/temp_dir.h"

namespace kiln::ui {
namespace {

namespace fs = std::filesystem;
using track::JsonValue;

constexpr std::int64_t kLongSeries = 100'000;
constexpr std::int64_t kSpikySeries = 60'000, kSpikeStep = 33'333, kDipStep = 44'444;

// Percent-encodes a query value (everything but unreserved characters).
std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string manifest(const std::string& commit) {
  return R"({"status":"FINISHED","kiln":{"version":"0.4.0","commit":")" + commit +
         R"("},"runtime":{"libtorch":"1.13.1"}})";
}

track::NewRun new_run(const fs::path& root, const std::string& id, double start, double lr) {
  track::NewRun run;
  run.id = id;
  run.name = "run-" + id;
  run.experiment = "exp";
  run.dir = root / "exp" / id;
  run.start_time = start;
  run.params = {{"optimizer.lr", lr}, {"model._target_", std::string("cnn")}, {"trainer.max_epochs", std::int64_t{3}}};
  run.tags = {{"note", "smoke " + id}};
  run.manifest_json = manifest("c0ffee" + id);
  return run;
}

// One store and one server for the whole suite: building a 100k-point
// series once keeps the tests quick.
class Dashboard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<testing::TempDir>("kiln_dashboard");
    const fs::path root = tmp_->path() / "runs";
    store_path_ = root / "kiln.db";
    track::RunStore store(track::RunStoreOptions{.path = store_path_});
    // abc123 (newest, a long loss series and artifacts), abd456, xyz789.
    store.begin_run(new_run(root, "abc123", 3000, 1e-3));
    store.begin_run(new_run(root, "abd456", 2000, 1e-2));
    store.begin_run(new_run(root, "xyz789", 1000, 1e-1));
    std::vector<track::MetricRow> loss;
    for (std::int64_t step = 0; step < kLongSeries; ++step)
      loss.push_back({"train/loss", {step, 3000.0 + step * 1e-3, 1.0 / (1.0 + step)}});
    store.log_metrics("abc123", loss);
    // Long enough to be drawn from the store's step buckets, with one spike
    // and one dip that down-sampling must keep.
    std::vector<track::MetricRow> spiky;
    for (std::int64_t step = 0; step < kSpikySeries; ++step) {
      double value = step == kSpikeStep ? 1e6 : step == kDipStep ? -1e6 : 0.001 * static_cast<double>(step % 100);
      spiky.push_back({"train/grad_norm", {step, 3000.0 + step * 1e-3, value}});
    }
    store.log_metrics("abc123", spiky);
    store.log_metrics("abc123", {{"val/acc", {10, 3001, 0.95}}, {"val/acc", {20, 3002, 0.97}}});
    store.log_metrics("abd456", {{"val/acc", {10, 2001, 0.80}}, {"train/loss", {10, 2001, 0.5}}});
    store.log_metrics("xyz789", {{"val/acc", {10, 1001, 0.50}}});
    store.log_system_metrics("abc123", {{"cpu/percent", {0, 3000.5, 40}}, {"cpu/percent", {0, 3001.5, 60}}});
    for (const char* id : {"abc123", "abd456", "xyz789"}) store.end_run(id, track::RunStatus::kFinished, 4000, "", "");

    const fs::path run_dir = root / "exp" / "abc123";
    fs::create_directories(run_dir / "checkpoints");
    std::ofstream(run_dir / "checkpoints" / "last.safetensors", std::ios::binary) << std::string("weights\0bytes", 13);
    std::ofstream(root / "exp" / "abd456.secret") << "another run's file";
    std::ofstream(tmp_->path() / "outside") << "not a run file";
    fs::create_symlink(tmp_->path() / "outside", run_dir / "escape");
    store.set_artifacts("abc123", {{"checkpoints/last.safetensors", 13, "00ff"}});

    server_ = std::make_unique<DashboardServer>(DashboardOptions{.store = store_path_, .port = 0, .threads = 2});
    server_->start();
  }

  static void TearDownTestSuite() {
    server_.reset();  // stops and joins before the store's directory goes
    tmp_.reset();
  }

  static HttpClientResponse get(const std::string& target, const std::string& headers = {}) {
    return http_get("127.0.0.1", server_->port(), target, headers);
  }

  // A 200 response's body as JSON.
  static JsonValue get_json(const std::string& target) {
    HttpClientResponse response = get(target);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    return track::parse_json(response.body);
  }

  // The "error" message of a response that must have `status`.
  static std::string error_of(const std::string& target, int status, const std::string& headers = {}) {
    HttpClientResponse response = get(target, headers);
    EXPECT_EQ(response.status, status) << target << ": " << response.body;
    JsonValue body = track::parse_json(response.body);
    const JsonValue* error = body.find("error");
    return error != nullptr ? error->text() : "";
  }

  static std::vector<std::string> run_ids(const JsonValue& list) {
    std::vector<std::string> ids;
    for (const JsonValue& run : list.find("runs")->items()) ids.push_back(run.find("id")->text());
    return ids;
  }

  static inline std::unique_ptr<testing::TempDir> tmp_;
  static inline fs::path store_path_;
  static inline std::unique_ptr<DashboardServer> server_;
};

TEST_F(Dashboard, ListsRunsWithTheirSummaries) {
  JsonValue list = get_json("/api/runs");
  EXPECT_EQ(list.find("total")->text(), "3");
  EXPECT_EQ(run_ids(list), (std::vector<std::string>{"abc123", "abd456", "xyz789"}));  // newest first
  const JsonValue& first = list.find("runs")->items()[0];
  EXPECT_EQ(first.find("status")->text(), "FINISHED");
  EXPECT_EQ(first.find("tags")->find("note")->text(), "smoke abc123");
  const JsonValue* loss = first.find("metrics")->find("train/loss");
  ASSERT_NE(loss, nullptr);
  EXPECT_EQ(loss->find("count")->text(), std::to_string(kLongSeries));
  EXPECT_EQ(loss->find("step")->text(), std::to_string(kLongSeries - 1));
  EXPECT_EQ(loss->find("max")->text(), "1.0");
  EXPECT_EQ(first.find("metrics")->find("val/acc")->find("last")->text(), "0.97");
  std::vector<std::string> keys;
  for (const JsonValue& key : list.find("metric_keys")->items()) keys.push_back(key.text());
  EXPECT_EQ(keys, (std::vector<std::string>{"train/grad_norm", "train/loss", "val/acc"}));
}

// The runs table is written as text, the run page as a JsonValue tree
// (api_json.h): the same run must read back the same from both.
TEST_F(Dashboard, TheRunsTableAgreesWithTheRunPage) {
  JsonValue list = get_json("/api/runs");
  for (const JsonValue& entry : list.find("runs")->items()) {
    const std::string id = entry.find("id")->text();
    JsonValue page = get_json("/api/runs/" + id);
    JsonValue record = JsonValue::object();
    for (const auto& [key, value] : entry.members())
      if (key != "metrics") record.set(key, value);
    EXPECT_EQ(track::to_json(record), track::to_json(*page.find("run"))) << id;
    JsonValue summaries = JsonValue::object();
    for (const JsonValue& metric : page.find("metrics")->items()) {
      JsonValue summary = JsonValue::object();
      for (const auto& [key, value] : metric.members())
        if (key != "key") summary.set(key, value);
      summaries.set(metric.find("key")->text(), std::move(summary));
    }
    EXPECT_EQ(track::to_json(*entry.find("metrics")), track::to_json(summaries)) << id;
  }
}

TEST_F(Dashboard, FiltersSortsAndLimitsRuns) {
  EXPECT_EQ(run_ids(get_json("/api/runs?where=" + url_encode("metrics.val/acc > 0.6"))),
            (std::vector<std::string>{"abc123", "abd456"}));
  EXPECT_EQ(run_ids(get_json("/api/runs?where=" + url_encode("params.optimizer.lr >= 1e-2") + "&sort=start_time")),
            (std::vector<std::string>{"xyz789", "abd456"}));
  EXPECT_EQ(run_ids(get_json("/api/runs?sort=" + url_encode("metrics.val/acc") + "&limit=2")),
            (std::vector<std::string>{"xyz789", "abd456"}));
  // The total is the store's, whatever the filter keeps.
  EXPECT_EQ(get_json("/api/runs?limit=1").find("total")->text(), "3");
}

TEST_F(Dashboard, ABadFilterIs400WithTheParsersMessage) {
  std::string error = error_of("/api/runs?where=" + url_encode("metrics.val/acc >"), 400);
  EXPECT_NE(error.find("--where: expected a value"), std::string::npos) << error;
  EXPECT_NE(error.find('^'), std::string::npos) << error;
  EXPECT_NE(error_of("/api/runs?sort=" + url_encode("bogus_attribute"), 400).find("--sort:"), std::string::npos);
  EXPECT_NE(error_of("/api/runs?limit=ten", 400).find("limit must be a non-negative integer"), std::string::npos);
}

TEST_F(Dashboard, ResolvesRunsByPrefixNameAndLast) {
  JsonValue run = get_json("/api/runs/abc");
  EXPECT_EQ(run.find("run")->find("id")->text(), "abc123");
  std::vector<std::string> params;
  for (const JsonValue& p : run.find("params")->items()) params.push_back(p.find("key")->text());
  EXPECT_EQ(params, (std::vector<std::string>{"model._target_", "optimizer.lr", "trainer.max_epochs"}));
  EXPECT_EQ(run.find("params")->items()[2].find("type")->text(), "int");
  EXPECT_EQ(run.find("metrics")->items().size(), 3u);
  ASSERT_EQ(run.find("artifacts")->items().size(), 1u);
  EXPECT_EQ(run.find("artifacts")->items()[0].find("path")->text(), "checkpoints/last.safetensors");
  EXPECT_EQ(run.find("manifest")->find("kiln")->find("commit")->text(), "c0ffeeabc123");

  EXPECT_EQ(get_json("/api/runs/run-xyz789").find("run")->find("id")->text(), "xyz789");
  EXPECT_EQ(get_json("/api/runs/last").find("run")->find("id")->text(), "abc123");
  EXPECT_NE(error_of("/api/runs/ab", 400).find("ambiguous"), std::string::npos);
  EXPECT_NE(error_of("/api/runs/nope", 404).find("no run 'nope'"), std::string::npos);
}

TEST_F(Dashboard, DownSamplesALongSeriesKeepingItsEnds) {
  JsonValue series = get_json("/api/runs/abc123/metrics/train%2Floss?max_points=500");
  EXPECT_EQ(series.find("count")->text(), std::to_string(kLongSeries));
  EXPECT_EQ(series.find("run")->text(), "abc123");
  const auto& steps = series.find("steps")->items();
  const auto& values = series.find("values")->items();
  ASSERT_EQ(steps.size(), 500u);
  ASSERT_EQ(values.size(), 500u);
  ASSERT_EQ(series.find("times")->items().size(), 500u);
  EXPECT_EQ(steps.front().text(), "0");
  EXPECT_EQ(values.front().text(), "1.0");
  EXPECT_EQ(steps.back().text(), std::to_string(kLongSeries - 1));
  for (std::size_t i = 1; i < steps.size(); ++i)
    ASSERT_LT(*steps[i - 1].as_int64(), *steps[i].as_int64()) << "steps ascend at " << i;
  EXPECT_TRUE(series.find("overview")->as_bool());
  // An unescaped '/' in the key works too, and a short series comes whole.
  EXPECT_EQ(get_json("/api/runs/abc123/metrics/val/acc").find("steps")->items().size(), 2u);
}

// Above DashboardOptions::overview_above_points (50,000) a series comes from
// the store's min/max step buckets: every extreme is still drawn. Asked for
// more points than the buckets hold, the server reads the points themselves.
TEST_F(Dashboard, DrawsALongSeriesFromItsBucketsKeepingSpikes) {
  JsonValue series = get_json("/api/runs/abc123/metrics/train/grad_norm?max_points=300");
  EXPECT_TRUE(series.find("overview")->as_bool());
  EXPECT_EQ(series.find("count")->text(), std::to_string(kSpikySeries));
  const auto& steps = series.find("steps")->items();
  const auto& values = series.find("values")->items();
  ASSERT_EQ(steps.size(), 300u);
  EXPECT_EQ(steps.front().text(), "0");
  EXPECT_EQ(steps.back().text(), std::to_string(kSpikySeries - 1));
  std::map<std::string, std::string> at;
  for (std::size_t i = 0; i < steps.size(); ++i) at[steps[i].text()] = values[i].text();
  EXPECT_EQ(at[std::to_string(kSpikeStep)], "1e+06");
  EXPECT_EQ(at[std::to_string(kDipStep)], "-1e+06");

  JsonValue whole = get_json("/api/runs/abc123/metrics/train/grad_norm?max_points=100000");
  EXPECT_FALSE(whole.find("overview")->as_bool());
  EXPECT_EQ(whole.find("steps")->items().size(), static_cast<std::size_t>(kSpikySeries));
}

// The server keeps served series in memory (series_cache.h) and reads only
// what is new: a poll must still see every point logged since, a rewritten
// newest point, and a resumed run's replaced steps.
TEST_F(Dashboard, SeriesFollowWritesBehindTheCache) {
  track::RunStore store(track::RunStoreOptions{.path = store_path_});
  track::NewRun live = new_run(tmp_->path() / "runs", "live01", 500, 1e-3);
  live.pid = 1001;
  store.begin_run(live);
  auto values = [&] {
    JsonValue series = get_json("/api/runs/live01/metrics/loss");
    std::vector<std::string> out;
    for (const JsonValue& v : series.find("values")->items()) out.push_back(v.text());
    return out;
  };
  store.log_metrics("live01", {{"loss", {1, 501, 0.5}}, {"loss", {2, 502, 0.25}}});
  EXPECT_EQ(values(), (std::vector<std::string>{"0.5", "0.25"}));
  store.log_metrics("live01", {{"loss", {3, 503, 0.125}}});
  EXPECT_EQ(values(), (std::vector<std::string>{"0.5", "0.25", "0.125"}));
  store.log_metrics("live01", {{"loss", {3, 503.5, 0.1}}});  // the newest step logged again
  EXPECT_EQ(values(), (std::vector<std::string>{"0.5", "0.25", "0.1"}));
  // Resumed from step 1 by a new process: steps 2 and 3 are trained again.
  live.pid = 1002;
  store.begin_run(live);
  store.log_metrics("live01", {{"loss", {2, 600, 0.3}}, {"loss", {3, 601, 0.2}}});
  EXPECT_EQ(values(), (std::vector<std::string>{"0.5", "0.3", "0.2"}));
  // Deleted and made again by the same process: read whole again.
  store.delete_run("live01");
  store.begin_run(live);
  store.log_metrics("live01", {{"loss", {7, 700, 0.7}}});
  EXPECT_EQ(values(), (std::vector<std::string>{"0.7"}));
  store.delete_run("live01");
}

TEST_F(Dashboard, ServesSystemMetricsAgainstTime) {
  JsonValue run = get_json("/api/runs/abc123");
  ASSERT_EQ(run.find("system_metrics")->items().size(), 1u);
  EXPECT_EQ(run.find("system_metrics")->items()[0].text(), "cpu/percent");
  JsonValue series = get_json("/api/runs/abc123/metrics/cpu%2Fpercent?system=1");
  EXPECT_TRUE(series.find("system")->as_bool());
  ASSERT_EQ(series.find("times")->items().size(), 2u);
  EXPECT_EQ(series.find("times")->items()[1].text(), "3001.5");
  EXPECT_EQ(series.find("values")->items()[1].text(), "60.0");
  // Not a training metric.
  EXPECT_EQ(get("/api/runs/abc123/metrics/cpu%2Fpercent").status, 404);
}

TEST_F(Dashboard, RejectsBadSeriesRequests) {
  for (const char* bad : {"abc", "-1", "1.5", "5x"})
    EXPECT_NE(error_of(std::string("/api/runs/abc123/metrics/val%2Facc?max_points=") + bad, 400).find("max_points"),
              std::string::npos)
        << bad;
  EXPECT_NE(error_of("/api/runs/abc123/metrics/val%2Facc?max_points=0", 400).find("1..100000"), std::string::npos);
  EXPECT_NE(error_of("/api/runs/abc123/metrics/val%2Facc?max_points=100001", 400).find("1..100000"), std::string::npos);
  EXPECT_NE(error_of("/api/runs/abc123/metrics/val%2Facc?system=2", 400).find("system must be"), std::string::npos);
  EXPECT_NE(error_of("/api/runs/abc123/metrics/nope", 404).find("no metric 'nope'"), std::string::npos);
  EXPECT_NE(error_of("/api/runs/nope/metrics/val%2Facc", 404).find("no run 'nope'"), std::string::npos);
}

TEST_F(Dashboard, DiffsTwoRuns) {
  JsonValue diff = get_json("/api/diff?a=abc&b=xyz");
  EXPECT_EQ(diff.find("a")->text(), "abc123");
  EXPECT_EQ(diff.find("b")->text(), "xyz789");
  ASSERT_EQ(diff.find("params")->items().size(), 1u);
  EXPECT_EQ(diff.find("params")->items()[0].find("key")->text(), "optimizer.lr");
  bool commit_differs = false;
  for (const JsonValue& change : diff.find("environment")->items())
    commit_differs = commit_differs || change.find("key")->text() == "kiln.commit";
  EXPECT_TRUE(commit_differs);
  std::vector<std::string> metrics;
  for (const JsonValue& m : diff.find("metrics")->items()) metrics.push_back(m.find("key")->text());
  EXPECT_EQ(metrics, (std::vector<std::string>{"train/grad_norm", "train/loss", "val/acc"}));
  EXPECT_EQ(error_of("/api/diff?a=abc", 400).find("diff needs two runs"), 0u);
  EXPECT_NE(error_of("/api/diff?a=abc&b=nope", 404).find("no run 'nope'"), std::string::npos);
}

TEST_F(Dashboard, DownloadsArtifactsInsideTheRunOnly) {
  HttpClientResponse file = get("/api/runs/abc123/artifacts/checkpoints/last.safetensors");
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, std::string("weights\0bytes", 13));
  EXPECT_EQ(file.headers["content-type"], "application/octet-stream");
  EXPECT_EQ(file.headers["content-disposition"], "attachment; filename=\"last.safetensors\"");

  for (const char* escape : {"..%2Fabd456.secret", "checkpoints/..%2F..%2Fabd456.secret", "%2Fetc%2Fpasswd", "escape"})
    EXPECT_NE(error_of(std::string("/api/runs/abc123/artifacts/") + escape, 403).find("outside the directory"),
              std::string::npos)
        << escape;
  // `..` as a path segment, which the router sees after splitting.
  EXPECT_EQ(get("/api/runs/abc123/artifacts/../abd456.secret").status, 403);
  EXPECT_EQ(get("/api/runs/abc123/artifacts/checkpoints/missing").status, 404);
  EXPECT_EQ(get("/api/runs/nope/artifacts/x").status, 404);
}

TEST_F(Dashboard, RefusesForeignHostHeaders) {
  // parse_request_head keeps a repeated header's last value: this Host wins
  // over the one http_get sends.
  std::string error = error_of("/api/runs", 403, "Host: evil.example.com\r\n");
  EXPECT_NE(error.find("DNS rebinding"), std::string::npos) << error;
  EXPECT_EQ(get("/", "Host: evil.example.com:8765\r\n").status, 403);
  EXPECT_EQ(get("/api/status", "Host: localhost:8765\r\n").status, 200);
  EXPECT_EQ(get("/api/status", "Host: [::1]:8765\r\n").status, 200);
}

TEST_F(Dashboard, UnknownEndpointsAre404) {
  EXPECT_EQ(get("/api/nope").status, 404);
  EXPECT_EQ(get("/api/runs/abc123/bogus/x").status, 404);
  JsonValue status = get_json("/api/status");
  EXPECT_EQ(status.find("runs")->text(), "3");
  EXPECT_EQ(status.find("token_required")->as_bool(), false);
}

TEST_F(Dashboard, ATokenGuardsTheApi) {
  DashboardServer guarded(DashboardOptions{.store = store_path_, .port = 0, .token = "s3cret", .threads = 1});
  guarded.start();
  auto guarded_get = [&](const std::string& target, const std::string& headers = {}) {
    return http_get("127.0.0.1", guarded.port(), target, headers);
  };
  EXPECT_EQ(guarded_get("/api/runs").status, 401);
  EXPECT_EQ(guarded_get("/api/runs?token=wrong").status, 401);
  EXPECT_EQ(guarded_get("/api/runs", "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(guarded_get("/api/runs?token=s3cret").status, 200);
  EXPECT_EQ(guarded_get("/api/runs", "Authorization: Bearer s3cret\r\n").status, 200);
  EXPECT_EQ(guarded_get("/api/runs/nope?token=s3cret").status, 404);
}

TEST_F(Dashboard, ServesAnEmptyListBeforeTheStoreExists) {
  DashboardServer early(DashboardOptions{.store = tmp_->path() / "later" / "kiln.db", .port = 0, .threads = 1});
  early.start();
  HttpClientResponse response = http_get("127.0.0.1", early.port(), "/api/runs");
  ASSERT_EQ(response.status, 200) << response.body;
  JsonValue list = track::parse_json(response.body);
  EXPECT_FALSE(list.find("store_exists")->as_bool());
  EXPECT_TRUE(list.find("runs")->items().empty());
  EXPECT_EQ(http_get("127.0.0.1", early.port(), "/api/runs/last").status, 404);
}

}  // namespace
}  // namespace kiln::ui
