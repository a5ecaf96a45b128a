#include "run_display.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "kiln/track/run_json.h"
#include "text_table.h"

namespace kiln::cli {
namespace {

std::string or_dash(const std::optional<std::string>& value) { return value ? *value : "(absent)"; }

std::string signed_number(double value) { return (value > 0 ? "+" : "") + format_number(value); }

}  // namespace

std::string format_time(double unix_seconds) {
  std::time_t seconds = static_cast<std::time_t>(unix_seconds);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string format_duration(double seconds) {
  char text[32];
  if (seconds < 0) seconds = 0;
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(text, sizeof text, "%dh%02dm", static_cast<int>(seconds) / 3600, static_cast<int>(seconds) / 60 % 60);
  }
  return text;
}

std::string format_run_details(track::RunStore& store, const track::RunRecord& run) {
  std::string out;
  TableRows head = {{"id", run.id},
                    {"name", run.name.empty() ? "-" : run.name},
                    {"experiment", run.experiment},
                    {"status", std::string(track::run_status_name(run.status))},
                    {"start", format_time(run.start_time)},
                    {"duration", format_duration(track::run_duration(run))},
                    {"user@host", run.user + "@" + run.host + " (pid " + std::to_string(run.pid) + ")"},
                    {"git commit", run.git_commit.empty() ? "-" : run.git_commit},
                    {"dir", run.dir.string()}};
  if (!run.sweep_id.empty()) head.push_back({"sweep", run.sweep_id});
  if (!run.error.empty()) head.push_back({"error", run.error});
  for (const auto& [key, value] : run.tags) head.push_back({"tag " + key, value});
  out += format_table(head);

  out += "\nenvironment\n";
  TableRows env;
  for (const auto& [key, value] : track::manifest_environment(store.manifest(run.id)))
    if (!key.starts_with("environment.")) env.push_back({"  " + key, value});
  out += env.empty() ? "  (no manifest)\n" : format_table(env);

  out += "\nmetrics\n";
  TableRows metrics = {{"  key", "last", "best", "min", "max", "step", "points"}};
  for (const track::MetricSummary& m : store.metric_summaries(run.id))
    metrics.push_back({"  " + m.key, format_number(m.last.value), format_number(m.best()), format_number(m.min),
                       format_number(m.max), std::to_string(m.last.step), std::to_string(m.count)});
  out += metrics.size() == 1 ? "  (none logged)\n" : format_table(metrics);

  out += "\nconfig\n";
  TableRows params;
  for (const track::Param& p : store.params(run.id)) params.push_back({"  " + p.key, track::param_text(p.value)});
  out += format_table(params);

  out += "\nartifacts\n";
  TableRows artifacts;
  for (const track::Artifact& a : store.artifacts(run.id))
    artifacts.push_back({"  " + a.path, std::to_string(a.size), a.sha256.substr(0, 16)});
  out += artifacts.empty() ? "  (none recorded)\n" : format_table(artifacts);
  return out;
}

track::JsonValue run_details_json(track::RunStore& store, const track::RunRecord& run) {
  track::JsonValue out = track::run_record_json(run);
  out.set("params", track::params_json(store.params(run.id)));
  out.set("metrics", track::metric_summaries_json(store.metric_summaries(run.id)));
  track::JsonValue artifacts = track::JsonValue::array();
  for (const track::Artifact& a : store.artifacts(run.id)) {
    track::JsonValue entry = track::JsonValue::object();
    entry.set("path", track::JsonValue::string(a.path));
    entry.set("size", track::JsonValue::number(a.size));
    entry.set("sha256", track::JsonValue::string(a.sha256));
    artifacts.push_back(std::move(entry));
  }
  out.set("artifacts", std::move(artifacts));
  std::string manifest = store.manifest(run.id);
  try {
    out.set("manifest", manifest.empty() ? track::JsonValue() : track::parse_json(manifest));
  } catch (const track::JsonError&) {
    out.set("manifest", track::JsonValue::string(manifest));
  }
  return out;
}

std::string format_run_diff(const track::RunDiff& diff) {
  std::string out = "a: " + diff.a.id + (diff.a.name.empty() ? "" : " (" + diff.a.name + ")") + "\n";
  out += "b: " + diff.b.id + (diff.b.name.empty() ? "" : " (" + diff.b.name + ")") + "\n";
  auto changes = [&](const char* title, const std::vector<track::ValueChange>& list) {
    out += std::string("\n") + title +
           (list.empty() ? ": identical\n" : " (" + std::to_string(list.size()) + " differ)\n");
    TableRows rows;
    for (const track::ValueChange& c : list) rows.push_back({"  " + c.key, or_dash(c.a), "->", or_dash(c.b)});
    out += format_table(rows);
  };
  changes("config", diff.params);
  changes("environment", diff.environment);
  out += "\nmetrics\n";
  TableRows rows = {{"  key", "a last", "b last", "delta", "a best", "b best", "delta"}};
  for (const track::MetricComparison& m : diff.metrics) {
    auto value = [](const std::optional<track::MetricSummary>& s, bool best) {
      return s ? format_number(best ? s->best() : s->last.value) : std::string("-");
    };
    auto delta = [](std::optional<double> d) { return d ? signed_number(*d) : std::string("-"); };
    rows.push_back({"  " + m.key, value(m.a, false), value(m.b, false), delta(m.last_delta()), value(m.a, true),
                    value(m.b, true), delta(m.best_delta())});
  }
  out += rows.size() == 1 ? "  (none logged)\n" : format_table(rows);
  return out;
}

}  // namespace kiln::cli
