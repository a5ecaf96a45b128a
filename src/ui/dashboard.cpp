// The dashboard's router: token and Host checks, then one function per API
// endpoint, each a thin read of the run store turned into JSON (api_json.h).
#include "kiln/ui/dashboard.h"

#include <charconv>

#include "api_json.h"
#include "kiln/track/run_diff.h"
#include "kiln/track/run_json.h"
#include "kiln/track/run_store.h"
#include "kiln/ui/access_token.h"
#include "kiln/ui/artifact_path.h"
#include "kiln/ui/assets.h"
#include "kiln/ui/lttb.h"
#include "series_cache.h"

namespace kiln::ui {
namespace {

namespace fs = std::filesystem;
using track::JsonValue;
using Segments = std::vector<std::string>;

HttpResponse ok(const JsonValue& value) {
  HttpResponse response = HttpResponse::json(track::to_json(value));
  // Live data: the page polls and must see every new point.
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

std::string join_from(const Segments& segments, std::size_t first) {
  std::string out;
  for (std::size_t i = first; i < segments.size(); ++i) out += (i > first ? "/" : "") + segments[i];
  return out;
}

// A non-negative integer query parameter; nullopt (and `error` set) when malformed.
std::optional<std::int64_t> integer_param(const HttpRequest& request, std::string_view name, std::int64_t fallback,
                                          std::string& error) {
  auto text = request.query_param(name);
  if (!text || text->empty()) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0) {
    error = std::string(name) + " must be a non-negative integer, found '" + *text + "'";
    return std::nullopt;
  }
  return value;
}

std::string download_name(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (char& c : name)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '_';
  return name.empty() ? "artifact" : name;
}

}  // namespace

struct DashboardHandler::Impl {
  DashboardOptions options;
  std::unique_ptr<track::RunStore> store;
  std::shared_ptr<SeriesCache> series_cache;

  // The worker's connection, opened on first use: nullptr while no store
  // exists yet (the page shows "no runs yet" rather than an error).
  track::RunStore* open_store() {
    if (!store) {
      std::error_code ec;
      if (!fs::exists(options.store, ec)) return nullptr;
      store = std::make_unique<track::RunStore>(track::RunStoreOptions{.path = options.store, .read_only = true});
    }
    return store.get();
  }

  HttpResponse handle(const HttpRequest& request) {
    auto segments = split_path(request.path);
    if (!segments) return HttpResponse::json_error(400, "malformed percent-escape in '" + request.path + "'");
    if (options.token.empty() && !host_header_is_loopback(request))
      return HttpResponse::json_error(403, "this dashboard serves only loopback Host names (DNS rebinding guard)");
    if (segments->empty() || (*segments)[0] != "api") return asset(request);
    if (!options.token.empty() && !request_has_token(request, options.token))
      return HttpResponse::json_error(
          401,
          "this dashboard needs its access token: open the URL `kiln ui` printed, or send ?token= or "
          "'Authorization: Bearer <token>'");
    try {
      return api(request, *segments);
    } catch (const IoError&) {
      throw;  // the server answers 500 with the message
    } catch (const Error& e) {
      // A bad --where filter, an ambiguous run prefix: the caller's to fix.
      return HttpResponse::json_error(400, e.what());
    }
  }

  HttpResponse asset(const HttpRequest& request) {
    const Asset* found = find_asset(request.path);
    if (found == nullptr) return HttpResponse::json_error(404, "no page at '" + request.path + "'");
    HttpResponse response;
    response.content_type = std::string(found->content_type);
    response.body = std::string(found->body);
    // The assets change with the binary; revalidating is cheap on localhost.
    response.headers.emplace_back("Cache-Control", "no-cache");
    return response;
  }

  HttpResponse api(const HttpRequest& request, const Segments& s) {
    const std::size_t n = s.size();
    if (n == 2 && s[1] == "status") return status();
    if (n == 2 && s[1] == "runs") return list_runs(request);
    if (n == 2 && s[1] == "diff") return diff(request);
    if (n >= 3 && s[1] == "runs") {
      if (n == 3) return run(s[2]);
      if (n >= 5 && s[3] == "metrics") return series(request, s[2], join_from(s, 4));
      if (n >= 5 && s[3] == "artifacts") return artifact(s[2], join_from(s, 4));
    }
    return HttpResponse::json_error(404, "no API endpoint '" + request.path + "' (see docs/ui.md)");
  }

  HttpResponse status() {
    auto out = JsonValue::object();
    out.set("store", JsonValue::string(options.store.string()));
    track::RunStore* store = open_store();
    out.set("store_exists", JsonValue::boolean(store != nullptr));
    out.set("runs", JsonValue::number(store ? store->count_runs() : std::int64_t{0}));
    out.set("token_required", JsonValue::boolean(!options.token.empty()));
    return ok(out);
  }

  HttpResponse list_runs(const HttpRequest& request) {
    std::string error;
    auto limit = integer_param(request, "limit", 0, error);
    if (!limit) return HttpResponse::json_error(400, error);
    track::RunStore* store = open_store();
    std::vector<track::RunRecord> records;
    std::vector<std::vector<track::MetricSummary>> summaries;
    if (store) {
      track::RunQuery query{.where = request.query_param("where").value_or(""),
                            .sort = request.query_param("sort").value_or(""),
                            .limit = *limit};
      records = store->list_runs(query);
      std::vector<std::string> ids;
      ids.reserve(records.size());
      for (const track::RunRecord& record : records) ids.push_back(record.id);
      // One batched read: a query per run made a 10,000-run table take ~1 s.
      summaries = store->metric_summaries(ids);
    }
    HttpResponse response =
        HttpResponse::json(api::run_table_json(store != nullptr, store ? store->count_runs() : 0, records, summaries));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  }

  // The run named by `ref` (id, prefix, name, "last"), or the 404 to send.
  std::variant<track::RunRecord, HttpResponse> find_run(const std::string& ref) {
    track::RunStore* store = open_store();
    std::optional<track::RunRecord> found = store ? store->resolve_run(ref) : std::nullopt;
    if (!found) return HttpResponse::json_error(404, "no run '" + ref + "' in " + options.store.string());
    return *found;
  }

  HttpResponse run(const std::string& ref) {
    auto found = find_run(ref);
    if (auto* response = std::get_if<HttpResponse>(&found)) return *response;
    const auto& record = std::get<track::RunRecord>(found);
    track::RunStore& store = *open_store();
    auto out = JsonValue::object();
    out.set("run", track::run_record_json(record));
    out.set("params", api::params(store.params(record.id)));
    auto summaries = store.metric_summaries(record.id);
    auto metrics = JsonValue::array();
    for (const auto& summary : summaries) {
      JsonValue item = track::metric_summary_json(summary);
      item.set("key", JsonValue::string(summary.key));
      metrics.push_back(std::move(item));
    }
    out.set("metrics", std::move(metrics));
    auto system = JsonValue::array();
    for (const auto& key : store.system_metric_keys(record.id)) system.push_back(JsonValue::string(key));
    out.set("system_metrics", std::move(system));
    out.set("artifacts", api::artifacts(store.artifacts(record.id)));
    std::string manifest = store.manifest(record.id);
    try {
      out.set("manifest", manifest.empty() ? JsonValue() : track::parse_json(manifest));
    } catch (const track::JsonError&) {
      // A damaged manifest still shows, as text.
      out.set("manifest", JsonValue::string(manifest));
    }
    return ok(out);
  }

  HttpResponse series(const HttpRequest& request, const std::string& ref, const std::string& key) {
    std::string error;
    auto max_points =
        integer_param(request, "max_points", static_cast<std::int64_t>(options.default_max_points), error);
    if (!max_points) return HttpResponse::json_error(400, error);
    if (*max_points == 0 || static_cast<std::size_t>(*max_points) > options.max_points_limit)
      return HttpResponse::json_error(400, "max_points must be in 1.." + std::to_string(options.max_points_limit) +
                                               ", found " + std::to_string(*max_points));
    std::string system_text = request.query_param("system").value_or("0");
    if (system_text != "0" && system_text != "1" && system_text != "true" && system_text != "false")
      return HttpResponse::json_error(400, "system must be 0 or 1, found '" + system_text + "'");
    const bool system = system_text == "1" || system_text == "true";

    auto found = find_run(ref);
    if (auto* response = std::get_if<HttpResponse>(&found)) return *response;
    const auto& record = std::get<track::RunRecord>(found);
    track::RunStore& store = *open_store();
    // A long training series is drawn from its step buckets; anything else
    // (short, system, or asked for at a resolution the buckets lack) from
    // its points, through the cache.
    std::int64_t stored = -1;
    if (!system) {
      for (const track::MetricSummary& summary : store.metric_summaries(record.id))
        if (summary.key == key) stored = summary.count;
    }
    std::shared_ptr<const SeriesCache::Points> read;
    bool overview = false;
    if (stored > static_cast<std::int64_t>(options.overview_above_points)) {
      if (auto thinned = store.metric_overview(record.id, key, static_cast<std::size_t>(*max_points))) {
        read = std::make_shared<const SeriesCache::Points>(std::move(*thinned));
        overview = true;
      }
    }
    if (!read) read = series_cache->series(store, record, key, system);
    const std::vector<track::MetricPoint>& points = *read;
    if (points.empty())
      return HttpResponse::json_error(
          404, "run '" + record.id + "' has no " + (system ? "system " : "") + "metric '" + key + "'");
    // Training metrics are drawn against steps, system metrics against time.
    std::vector<double> x(points.size()), y(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
      x[i] = system ? points[i].time : static_cast<double>(points[i].step);
      y[i] = points[i].value;
    }
    auto kept = lttb_indices(x, y, static_cast<std::size_t>(*max_points));
    JsonValue out =
        api::series(key, system, overview ? stored : static_cast<std::int64_t>(points.size()), overview, points, kept);
    out.set("run", JsonValue::string(record.id));
    out.set("status", JsonValue::string(std::string(track::run_status_name(record.status))));
    return ok(out);
  }

  HttpResponse diff(const HttpRequest& request) {
    auto a = request.query_param("a"), b = request.query_param("b");
    if (!a || !b || a->empty() || b->empty())
      return HttpResponse::json_error(400, "diff needs two runs: /api/diff?a=<run>&b=<run>");
    auto run_a = find_run(*a);
    if (auto* response = std::get_if<HttpResponse>(&run_a)) return *response;
    auto run_b = find_run(*b);
    if (auto* response = std::get_if<HttpResponse>(&run_b)) return *response;
    track::RunDiff result =
        track::diff_runs(*open_store(), std::get<track::RunRecord>(run_a), std::get<track::RunRecord>(run_b));
    return ok(track::run_diff_json(result));
  }

  // Run directories recorded relative to where `kiln train` ran are looked
  // up from here first, then next to the store's own directory.
  fs::path run_directory(const track::RunRecord& record) const {
    if (record.dir.is_absolute()) return record.dir;
    std::error_code ec;
    if (fs::exists(record.dir, ec)) return record.dir;
    return options.store.parent_path().parent_path() / record.dir;
  }

  HttpResponse artifact(const std::string& ref, const std::string& path) {
    auto found = find_run(ref);
    if (auto* response = std::get_if<HttpResponse>(&found)) return *response;
    const auto& record = std::get<track::RunRecord>(found);
    auto resolved = resolve_artifact_path(run_directory(record), path);
    if (auto* why = std::get_if<ArtifactPathError>(&resolved)) {
      if (*why == ArtifactPathError::kOutsideRunDir)
        return HttpResponse::json_error(403, "'" + path + "' is outside the directory of run '" + record.id + "'");
      return HttpResponse::json_error(404, "run '" + record.id + "' has no file '" + path + "'");
    }
    HttpResponse response;
    response.content_type = "application/octet-stream";
    response.file = std::get<fs::path>(resolved);
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + download_name(path) + "\"");
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  }
};

DashboardHandler::DashboardHandler(const DashboardOptions& options)
    : DashboardHandler(options, std::make_shared<SeriesCache>(options.series_cache_points)) {}

DashboardHandler::DashboardHandler(const DashboardOptions& options, std::shared_ptr<SeriesCache> series_cache)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->series_cache = std::move(series_cache);
}
DashboardHandler::~DashboardHandler() = default;
DashboardHandler::DashboardHandler(DashboardHandler&&) noexcept = default;

HttpResponse DashboardHandler::handle(const HttpRequest& request) { return impl_->handle(request); }

namespace {

DashboardOptions checked(DashboardOptions options) {
  if (options.token.empty() && !is_loopback_host(options.host))
    throw UsageError("kiln ui: --host " + options.host +
                     " is reachable from other machines, so the dashboard needs an access token (--token T, or "
                     "let kiln ui generate one)");
  if (options.default_max_points == 0 || options.default_max_points > options.max_points_limit)
    throw UsageError("DashboardOptions::default_max_points must be in 1..max_points_limit");
  return options;
}

}  // namespace

DashboardServer::DashboardServer(DashboardOptions options)
    : options_(checked(std::move(options))),
      series_cache_(std::make_shared<SeriesCache>(options_.series_cache_points)),
      server_(HttpServerOptions{.host = options_.host, .port = options_.port, .threads = options_.threads}, [this] {
        // shared_ptr: HttpHandler is a std::function, which must be copyable.
        auto handler = std::make_shared<DashboardHandler>(options_, series_cache_);
        return HttpHandler([handler](const HttpRequest& request) { return handler->handle(request); });
      }) {}

}  // namespace kiln::ui
