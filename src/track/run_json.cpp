#include "kiln/track/run_json.h"

#include <algorithm>
#include <cmath>

namespace kiln::track {

double run_duration(const RunRecord& run) {
  // Never negative: a run that has not yet beaten its heart has run 0 s.
  return run.end_time.value_or(std::max(run.heartbeat, run.start_time)) - run.start_time;
}

JsonValue number_or_null(double value) { return std::isfinite(value) ? JsonValue::number(value) : JsonValue(); }

JsonValue metric_summary_json(const MetricSummary& m) {
  JsonValue entry = JsonValue::object();
  entry.set("last", number_or_null(m.last.value));
  entry.set("step", JsonValue::number(m.last.step));
  entry.set("time", JsonValue::number(m.last.time));
  entry.set("min", number_or_null(m.min));
  entry.set("max", number_or_null(m.max));
  entry.set("best", number_or_null(m.best()));
  entry.set("count", JsonValue::number(m.count));
  return entry;
}

JsonValue run_record_json(const RunRecord& run) {
  JsonValue out = JsonValue::object();
  out.set("id", JsonValue::string(run.id));
  out.set("name", JsonValue::string(run.name));
  out.set("experiment", JsonValue::string(run.experiment));
  out.set("status", JsonValue::string(std::string(run_status_name(run.status))));
  out.set("error", JsonValue::string(run.error));
  out.set("start_time", JsonValue::number(run.start_time));
  out.set("end_time", run.end_time ? JsonValue::number(*run.end_time) : JsonValue());
  out.set("duration", JsonValue::number(run_duration(run)));
  out.set("heartbeat", JsonValue::number(run.heartbeat));
  out.set("user", JsonValue::string(run.user));
  out.set("host", JsonValue::string(run.host));
  out.set("pid", JsonValue::number(run.pid));
  out.set("git_commit", JsonValue::string(run.git_commit));
  out.set("sweep_id", JsonValue::string(run.sweep_id));
  out.set("dir", JsonValue::string(run.dir.string()));
  JsonValue tags = JsonValue::object();
  for (const auto& [key, value] : run.tags) tags.set(key, JsonValue::string(value));
  out.set("tags", std::move(tags));
  return out;
}

JsonValue metric_summaries_json(const std::vector<MetricSummary>& summaries) {
  JsonValue out = JsonValue::object();
  for (const MetricSummary& m : summaries) out.set(m.key, metric_summary_json(m));
  return out;
}

JsonValue param_value_json(const ParamValue& value) {
  struct ToJson {
    JsonValue operator()(std::monostate) const { return JsonValue(); }
    JsonValue operator()(bool b) const { return JsonValue::boolean(b); }
    JsonValue operator()(std::int64_t v) const { return JsonValue::number(v); }
    JsonValue operator()(double v) const { return JsonValue::number(v); }
    JsonValue operator()(const std::string& v) const { return JsonValue::string(v); }
  };
  return std::visit(ToJson{}, value);
}

JsonValue params_json(const std::vector<Param>& params) {
  JsonValue out = JsonValue::object();
  for (const Param& p : params) out.set(p.key, param_value_json(p.value));
  return out;
}

}  // namespace kiln::track
