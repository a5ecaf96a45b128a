// The runs table as JSON text, field for field what run_record and
// metric_summary build as trees (api_json.cpp): keep the two in step.
#include <charconv>
#include <cmath>
#include <set>

#include "api_json.h"
#include "kiln/track/run_json.h"

namespace kiln::ui::api {
namespace {

using track::JsonValue;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // `"key":`, preceded by a comma unless it opens the object.
  Writer& key(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    string(name);
    out_.push_back(':');
    return *this;
  }
  void open(char bracket) {
    out_.push_back(bracket);
    first_ = true;
  }
  void close(char bracket) {
    out_.push_back(bracket);
    first_ = false;
  }
  // An array element's separator.
  void next() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  // Most names and ids need no escapes: those skip json_quote's copy.
  void string(std::string_view text) {
    bool plain = true;
    for (char ch : text) {
      auto c = static_cast<unsigned char>(ch);
      plain = plain && c >= 0x20 && c != '"' && c != '\\';
    }
    if (!plain) {
      out_ += track::json_quote(text);
      return;
    }
    out_.push_back('"');
    out_ += text;
    out_.push_back('"');
  }
  // Numbers exactly as JsonValue::number spells them: the shortest text that
  // reads back, ".0" on integral values, non-finite ones as strings.
  void number(double value) {
    if (!std::isfinite(value)) {
      out_ += track::to_json(JsonValue::number(value));
      return;
    }
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
    out_ += text;
    if (text.find_first_of(".eE") == std::string_view::npos) out_ += ".0";
  }
  void number(std::int64_t value) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, end);
  }
  void number_or_null(double value) {
    if (std::isfinite(value)) {
      number(value);
    } else {
      out_ += "null";
    }
  }
  void null() { out_ += "null"; }

 private:
  std::string& out_;
  bool first_ = true;
};

void write_run(Writer& w, const track::RunRecord& run) {
  w.key("id").string(run.id);
  w.key("name").string(run.name);
  w.key("experiment").string(run.experiment);
  w.key("status").string(track::run_status_name(run.status));
  w.key("error").string(run.error);
  w.key("start_time").number(run.start_time);
  if (run.end_time) {
    w.key("end_time").number(*run.end_time);
  } else {
    w.key("end_time").null();
  }
  w.key("duration").number(track::run_duration(run));
  w.key("heartbeat").number(run.heartbeat);
  w.key("user").string(run.user);
  w.key("host").string(run.host);
  w.key("pid").number(run.pid);
  w.key("git_commit").string(run.git_commit);
  w.key("sweep_id").string(run.sweep_id);
  w.key("dir").string(run.dir.string());
  w.key("tags").open('{');
  for (const auto& [key, value] : run.tags) w.key(key).string(value);
  w.close('}');
}

void write_summary(Writer& w, const track::MetricSummary& summary) {
  w.open('{');
  w.key("last").number_or_null(summary.last.value);
  w.key("step").number(summary.last.step);
  w.key("time").number(summary.last.time);
  w.key("min").number_or_null(summary.min);
  w.key("max").number_or_null(summary.max);
  w.key("best").number_or_null(summary.best());
  w.key("count").number(summary.count);
  w.close('}');
}

}  // namespace

std::string run_table_json(bool store_exists, std::int64_t total, const std::vector<track::RunRecord>& runs,
                           const std::vector<std::vector<track::MetricSummary>>& summaries) {
  std::string out;
  out.reserve(runs.size() * 700);
  Writer w(out);
  std::set<std::string> metric_keys;
  w.open('{');
  w.key("store_exists");
  out += store_exists ? "true" : "false";
  w.key("total").number(total);
  w.key("runs").open('[');
  for (std::size_t i = 0; i < runs.size(); ++i) {
    w.next();
    w.open('{');
    write_run(w, runs[i]);
    w.key("metrics").open('{');
    for (const track::MetricSummary& summary : summaries[i]) {
      metric_keys.insert(summary.key);
      w.key(summary.key);
      write_summary(w, summary);
    }
    w.close('}');
    w.close('}');
  }
  w.close(']');
  w.key("metric_keys").open('[');
  for (const std::string& key : metric_keys) {
    w.next();
    w.string(key);
  }
  w.close(']');
  w.close('}');
  return out;
}

}  // namespace kiln::ui::api
