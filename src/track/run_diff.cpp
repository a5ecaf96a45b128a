#include "kiln/track/run_diff.h"

#include <algorithm>
#include <map>
#include <set>

#include "kiln/track/sha256.h"

namespace kiln::track {
namespace {

// The parts of a manifest that describe where and with what a run ran
// (docs/runs.md); the rest (times, command, config) is the run itself.
constexpr const char* kEnvironmentSections[] = {"kiln", "git", "host", "runtime", "environment"};

std::string scalar_text(const JsonValue& value) {
  switch (value.kind()) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return value.as_bool() ? "true" : "false";
    default: return value.text();
  }
}

void flatten_json(const JsonValue& value, const std::string& key,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (value.is_object()) {
    for (const auto& [name, member] : value.members()) flatten_json(member, key + "." + name, out);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.items().size(); ++i)
      flatten_json(value.items()[i], key + "." + std::to_string(i), out);
  } else if (key == "runtime.build_config" && value.is_string()) {
    // LibTorch's build description is long; a changed hash says enough.
    out.emplace_back(key + ".sha256", sha256_hex(value.text()));
  } else {
    out.emplace_back(key, scalar_text(value));
  }
}

std::vector<ValueChange> changes(const std::map<std::string, std::string>& a,
                                 const std::map<std::string, std::string>& b) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<ValueChange> out;
  for (const std::string& key : keys) {
    auto ia = a.find(key);
    auto ib = b.find(key);
    std::optional<std::string> va = ia == a.end() ? std::nullopt : std::optional(ia->second);
    std::optional<std::string> vb = ib == b.end() ? std::nullopt : std::optional(ib->second);
    if (va != vb) out.push_back({key, va, vb});
  }
  return out;
}

std::map<std::string, std::string> params_map(RunStore& store, const std::string& run_id) {
  std::map<std::string, std::string> out;
  for (const Param& p : store.params(run_id)) out[p.key] = param_text(p.value);
  return out;
}

// Keys that differ between every pair of runs by construction: they would
// hide the differences that matter.
bool is_identity_key(const std::string& key) {
  return key == "host.hostname" || key.starts_with("environment.KILN_RUN_ID") || key == "run.name";
}

JsonValue optional_text(const std::optional<std::string>& value) {
  return value ? JsonValue::string(*value) : JsonValue();
}

JsonValue optional_number(const std::optional<double>& value) {
  return value ? JsonValue::number(*value) : JsonValue();
}

JsonValue summary_json(const std::optional<MetricSummary>& m) {
  if (!m) return JsonValue();
  JsonValue out = JsonValue::object();
  out.set("last", JsonValue::number(m->last.value));
  out.set("best", JsonValue::number(m->best()));
  out.set("step", JsonValue::number(m->last.step));
  out.set("count", JsonValue::number(m->count));
  return out;
}

}  // namespace

std::optional<double> MetricComparison::last_delta() const {
  if (!a || !b) return std::nullopt;
  return b->last.value - a->last.value;
}

std::optional<double> MetricComparison::best_delta() const {
  if (!a || !b) return std::nullopt;
  return b->best() - a->best();
}

std::vector<std::pair<std::string, std::string>> manifest_environment(const std::string& manifest_json) {
  std::vector<std::pair<std::string, std::string>> out;
  if (manifest_json.empty()) return out;
  JsonValue manifest;
  try {
    manifest = parse_json(manifest_json);
  } catch (const JsonError&) {
    out.emplace_back("manifest", "unreadable");
    return out;
  }
  for (const char* section : kEnvironmentSections)
    if (const JsonValue* value = manifest.find(section)) flatten_json(*value, section, out);
  // Data files by path, so a reordered list is no difference.
  if (const JsonValue* data = manifest.find("data"); data && data->is_array()) {
    for (const JsonValue& file : data->items()) {
      const JsonValue* path = file.find("path");
      const JsonValue* sha = file.find("sha256");
      if (path && sha) out.emplace_back("data." + path->text() + ".sha256", scalar_text(*sha));
    }
  }
  return out;
}

RunDiff diff_runs(RunStore& store, const RunRecord& a, const RunRecord& b) {
  RunDiff diff{a, b, {}, {}, {}};
  diff.params = changes(params_map(store, a.id), params_map(store, b.id));
  std::erase_if(diff.params, [](const ValueChange& c) { return is_identity_key(c.key); });

  auto env_map = [&](const RunRecord& run) {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : manifest_environment(store.manifest(run.id)))
      if (!is_identity_key(k)) out[k] = v;
    return out;
  };
  diff.environment = changes(env_map(a), env_map(b));

  std::map<std::string, MetricComparison> metrics;
  for (MetricSummary& m : store.metric_summaries(a.id)) metrics[m.key].a = std::move(m);
  for (MetricSummary& m : store.metric_summaries(b.id)) metrics[m.key].b = std::move(m);
  for (auto& [key, comparison] : metrics) {
    comparison.key = key;
    diff.metrics.push_back(std::move(comparison));
  }
  return diff;
}

JsonValue run_diff_json(const RunDiff& diff) {
  auto value_changes = [](const std::vector<ValueChange>& list) {
    JsonValue out = JsonValue::array();
    for (const ValueChange& c : list) {
      JsonValue entry = JsonValue::object();
      entry.set("key", JsonValue::string(c.key));
      entry.set("a", optional_text(c.a));
      entry.set("b", optional_text(c.b));
      out.push_back(std::move(entry));
    }
    return out;
  };
  JsonValue out = JsonValue::object();
  out.set("a", JsonValue::string(diff.a.id));
  out.set("b", JsonValue::string(diff.b.id));
  out.set("params", value_changes(diff.params));
  out.set("environment", value_changes(diff.environment));
  JsonValue metrics = JsonValue::array();
  for (const MetricComparison& m : diff.metrics) {
    JsonValue entry = JsonValue::object();
    entry.set("key", JsonValue::string(m.key));
    entry.set("a", summary_json(m.a));
    entry.set("b", summary_json(m.b));
    entry.set("last_delta", optional_number(m.last_delta()));
    entry.set("best_delta", optional_number(m.best_delta()));
    metrics.push_back(std::move(entry));
  }
  out.set("metrics", std::move(metrics));
  return out;
}

}  // namespace kiln::track
