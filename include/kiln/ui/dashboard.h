// The dashboard: its JSON API over a run store plus the embedded page,
// served by HttpServer. `kiln ui` is serve_dashboard(); tests and benches
// build a DashboardServer directly to get its port.
//
// The API (docs/ui.md has example responses):
//   GET /api/status                              store path, whether it exists, run count
//   GET /api/runs?where=&sort=&limit=           runs with their metric summaries
//   GET /api/runs/<run>                          record, params, summaries, artifacts,
//                                                manifest, system metric keys
//   GET /api/runs/<run>/metrics/<key>?max_points=2000&system=0
//                                                one series, LTTB down-sampled
//   GET /api/diff?a=<run>&b=<run>                track::run_diff_json
//   GET /api/runs/<run>/artifacts/<path>         a file of the run directory
// <run> is anything RunStore::resolve_run takes (id, prefix, name, "last").
// Errors are {"error": "..."} with 400 (bad parameter, ambiguous run), 401
// (token missing), 403 (path outside the run, foreign Host), 404.
//
// Thread safety: each worker opens its own read-only RunStore on first use
// (a RunStore is one connection, one thread), so requests run in parallel
// while training processes keep writing (WAL).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "kiln/ui/http_message.h"
#include "kiln/ui/http_server.h"

namespace kiln::ui {

struct DashboardOptions {
  // The run store to read (opened read-only; never created).
  std::filesystem::path store = "runs/kiln.db";
  // Where to listen: loopback unless told otherwise.
  std::string host = "127.0.0.1";
  // 0 = an ephemeral port.
  int port = 8765;
  // The access token for /api/. Empty on a loopback host: none needed;
  // empty on any other host: serve_dashboard generates one.
  std::string token;
  // Worker threads.
  int threads = 8;
  // The default and the largest max_points of a series request.
  std::size_t default_max_points = 2000;
  std::size_t max_points_limit = 100000;
  // Points of served series kept in memory (about 24 bytes each) so a poll
  // reads only what was logged since the last one; 0 turns that off.
  std::size_t series_cache_points = 4'000'000;
  // A training metric with more points than this is drawn from the store's
  // step buckets (RunStore::metric_overview: min and max of each bucket)
  // instead of every point, so a million-point series costs a few thousand
  // rows, cold or warm. System metrics are always read whole.
  std::size_t overview_above_points = 50'000;
};

// The series the workers have served (src/ui/series_cache.h), shared.
class SeriesCache;

// One worker's request handler: routes /api/ and the static files. Opens
// its read-only RunStore on the first request that needs it (so the server
// starts before the first run has created the store).
class DashboardHandler {
 public:
  // With a series cache of its own.
  explicit DashboardHandler(const DashboardOptions& options);
  // Sharing `series_cache` with the other workers.
  DashboardHandler(const DashboardOptions& options, std::shared_ptr<SeriesCache> series_cache);
  ~DashboardHandler();
  DashboardHandler(DashboardHandler&&) noexcept;
  HttpResponse handle(const HttpRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The HttpServer with a DashboardHandler per worker.
class DashboardServer {
 public:
  // Throws kiln::UsageError when a non-loopback host has no token.
  explicit DashboardServer(DashboardOptions options);
  void start() { server_.start(); }
  int port() const { return server_.port(); }
  void stop() noexcept { server_.stop(); }
  void wait() { server_.wait(); }
  const DashboardOptions& options() const { return options_; }

 private:
  DashboardOptions options_;
  std::shared_ptr<SeriesCache> series_cache_;
  HttpServer server_;
};

// `kiln ui`: generates a token for a non-loopback host when none is given,
// starts the server, prints the URL to open (with the token) and serves
// until SIGINT or SIGTERM. Returns the exit code.
int serve_dashboard(DashboardOptions options);

}  // namespace kiln::ui
