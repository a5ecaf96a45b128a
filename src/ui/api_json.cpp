#include "api_json.h"

#include "kiln/track/run_json.h"

namespace kiln::ui::api {

using track::JsonValue;

JsonValue params(const std::vector<track::Param>& params) {
  auto out = JsonValue::array();
  for (const auto& param : params) {
    auto item = JsonValue::object();
    item.set("key", JsonValue::string(param.key));
    item.set("type", JsonValue::string(std::string(track::param_type_name(param.value))));
    // A NaN or infinite config value keeps its spelling as a string.
    item.set("value", track::param_value_json(param.value));
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

JsonValue series(const std::string& key, bool system, std::int64_t count, bool overview,
                 const std::vector<track::MetricPoint>& points, std::span<const std::size_t> kept) {
  std::vector<JsonValue> steps, times, values;
  steps.reserve(kept.size());
  times.reserve(kept.size());
  values.reserve(kept.size());
  for (std::size_t i : kept) {
    steps.push_back(JsonValue::number(points[i].step));
    times.push_back(JsonValue::number(points[i].time));
    values.push_back(track::number_or_null(points[i].value));
  }
  auto out = JsonValue::object();
  out.set("key", JsonValue::string(key));
  out.set("system", JsonValue::boolean(system));
  out.set("count", JsonValue::number(count));
  out.set("overview", JsonValue::boolean(overview));
  out.set("steps", JsonValue::array(std::move(steps)));
  out.set("times", JsonValue::array(std::move(times)));
  out.set("values", JsonValue::array(std::move(values)));
  return out;
}

}  // namespace kiln::ui::api
