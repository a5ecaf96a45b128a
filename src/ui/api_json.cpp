#include "api_json.h"

#include <cmath>

namespace kiln::ui::api {

using track::JsonValue;

JsonValue number_or_null(double value) { return std::isfinite(value) ? JsonValue::number(value) : JsonValue(); }

JsonValue run_record(const track::RunRecord& run) {
  auto out = JsonValue::object();
  out.set("id", JsonValue::string(run.id));
  out.set("name", JsonValue::string(run.name));
  out.set("experiment", JsonValue::string(run.experiment));
  out.set("status", JsonValue::string(std::string(track::run_status_name(run.status))));
  out.set("error", JsonValue::string(run.error));
  out.set("start_time", JsonValue::number(run.start_time));
  out.set("end_time", run.end_time ? JsonValue::number(*run.end_time) : JsonValue());
  // A running run's duration so far is up to its last heartbeat.
  double until = run.end_time ? *run.end_time : std::max(run.heartbeat, run.start_time);
  out.set("duration", JsonValue::number(until - run.start_time));
  out.set("heartbeat", JsonValue::number(run.heartbeat));
  out.set("user", JsonValue::string(run.user));
  out.set("host", JsonValue::string(run.host));
  out.set("pid", JsonValue::number(run.pid));
  out.set("git_commit", JsonValue::string(run.git_commit));
  out.set("sweep_id", JsonValue::string(run.sweep_id));
  out.set("dir", JsonValue::string(run.dir.string()));
  auto tags = JsonValue::object();
  for (const auto& [key, value] : run.tags) tags.set(key, JsonValue::string(value));
  out.set("tags", std::move(tags));
  return out;
}

JsonValue metric_summary(const track::MetricSummary& summary) {
  auto out = JsonValue::object();
  out.set("last", number_or_null(summary.last.value));
  out.set("step", JsonValue::number(summary.last.step));
  out.set("time", JsonValue::number(summary.last.time));
  out.set("min", number_or_null(summary.min));
  out.set("max", number_or_null(summary.max));
  out.set("count", JsonValue::number(summary.count));
  out.set("best", number_or_null(summary.best()));
  return out;
}

JsonValue metric_summaries(const std::vector<track::MetricSummary>& summaries) {
  auto out = JsonValue::object();
  for (const auto& summary : summaries) out.set(summary.key, metric_summary(summary));
  return out;
}

JsonValue params(const std::vector<track::Param>& params) {
  auto out = JsonValue::array();
  for (const auto& param : params) {
    auto item = JsonValue::object();
    item.set("key", JsonValue::string(param.key));
    item.set("type", JsonValue::string(std::string(track::param_type_name(param.value))));
    JsonValue value;
    if (auto* b = std::get_if<bool>(&param.value)) value = JsonValue::boolean(*b);
    if (auto* i = std::get_if<std::int64_t>(&param.value)) value = JsonValue::number(*i);
    // A NaN or infinite config value keeps its spelling as a string.
    if (auto* d = std::get_if<double>(&param.value)) value = JsonValue::number(*d);
    if (auto* s = std::get_if<std::string>(&param.value)) value = JsonValue::string(*s);
    item.set("value", std::move(value));
    out.push_back(std::move(item));
  }
  return out;
}

JsonValue artifacts(const std::vector<track::Artifact>& artifacts) {
  auto out = JsonValue::array();
  for (const auto& artifact : artifacts) {
    auto item = JsonValue::object();
    item.set("path", JsonValue::string(artifact.path));
    item.set("size", JsonValue::number(artifact.size));
    item.set("sha256", JsonValue::string(artifact.sha256));
    out.push_back(std::move(item));
  }
  return out;
}

JsonValue series(const std::string& key, bool system, const std::vector<track::MetricPoint>& points,
                 std::span<const std::size_t> kept) {
  std::vector<JsonValue> steps, times, values;
  steps.reserve(kept.size());
  times.reserve(kept.size());
  values.reserve(kept.size());
  for (std::size_t i : kept) {
    steps.push_back(JsonValue::number(points[i].step));
    times.push_back(JsonValue::number(points[i].time));
    values.push_back(number_or_null(points[i].value));
  }
  auto out = JsonValue::object();
  out.set("key", JsonValue::string(key));
  out.set("system", JsonValue::boolean(system));
  out.set("count", JsonValue::number(static_cast<std::uint64_t>(points.size())));
  out.set("steps", JsonValue::array(std::move(steps)));
  out.set("times", JsonValue::array(std::move(times)));
  out.set("values", JsonValue::array(std::move(values)));
  return out;
}

}  // namespace kiln::ui::api
