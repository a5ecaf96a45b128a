#include "run_manifest.h"

#include <unistd.h>

#include <csignal>
#include <ctime>

#include "dataset_binding.h"
#include "kiln/config/schema.h"
#include "kiln/track/env.h"
#include "kiln/track/provenance.h"
#include "kiln/track/sha256.h"
#include "kiln/version.h"

extern char** environ;

namespace kiln::cli {
namespace {
namespace fs = std::filesystem;
using track::JsonValue;

constexpr std::int64_t kManifestVersion = 1;

JsonValue str(const std::string& s) { return JsonValue::string(s); }

// The process's own argv, exactly as given (/proc/self/cmdline).
JsonValue command_line() {
  JsonValue argv = JsonValue::array();
  std::string text;
  try {
    text = Env::Default().read_file("/proc/self/cmdline");
  } catch (const kiln::Error&) {
    return argv;
  }
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    argv.push_back(str(text.substr(start, end - start)));
    start = end + 1;
  }
  return argv;
}

JsonValue host_json() {
  track::HostInfo host = track::describe_host();
  JsonValue out = JsonValue::object();
  out.set("hostname", str(host.hostname));
  out.set("os", str(host.os));
  out.set("cpu_model", str(host.cpu_model));
  out.set("cpu_count", JsonValue::number(host.cpu_count));
  out.set("memory_bytes", JsonValue::number(host.memory_bytes));
  return out;
}

JsonValue git_json() {
  std::error_code ec;
  track::GitState git = track::describe_git(fs::current_path(ec));
  JsonValue out = JsonValue::object();
  out.set("present", JsonValue::boolean(git.present));
  if (!git.present) return out;
  out.set("root", str(git.root));
  out.set("commit", str(git.commit));
  out.set("branch", str(git.branch));
  out.set("dirty", JsonValue::boolean(git.dirty));
  out.set("diff_sha256", git.diff_sha256.empty() ? JsonValue() : str(git.diff_sha256));
  return out;
}

JsonValue environment_json() {
  JsonValue out = JsonValue::object();
  for (const auto& [name, value] : track::relevant_environment(environ)) out.set(name, str(value));
  return out;
}

JsonValue seed_of(const config::Node& resolved) {
  const config::Node* seed = resolved.find("seed");
  if (seed && seed->kind() == config::Kind::kInt) return JsonValue::number(seed->as_int());
  return JsonValue();
}

}  // namespace

JsonValue node_to_json(const config::Node& node) {
  switch (node.kind()) {
    case config::Kind::kNull: return JsonValue();
    case config::Kind::kMissing: return str("???");
    case config::Kind::kBool: return JsonValue::boolean(node.as_bool());
    case config::Kind::kInt: return JsonValue::number(node.as_int());
    case config::Kind::kFloat: return JsonValue::number(node.as_float());
    case config::Kind::kString: return str(node.as_string());
    case config::Kind::kList: {
      JsonValue out = JsonValue::array();
      for (const config::Node& item : node.items()) out.push_back(node_to_json(item));
      return out;
    }
    case config::Kind::kMap: {
      JsonValue out = JsonValue::object();
      for (std::size_t i = 0; i < node.keys().size(); ++i) out.set(node.keys()[i], node_to_json(node.items()[i]));
      return out;
    }
  }
  return JsonValue();
}

std::string iso8601_utc(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  std::time_t seconds = system_clock::to_time_t(when);
  auto millis = duration_cast<milliseconds>(when.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(millis));
  return out;
}

RunManifest::RunManifest(const RunStart& start)
    : path_(start.run_dir / ".kiln" / "manifest.json"), start_(std::chrono::system_clock::now()) {
  Env& env = Env::Default();
  if (start.dataset) known_hashes_ = known_hashes(*start.dataset);
  if (start.resumed && env.exists(path_)) {
    // Keep what the first start recorded; add this start to `resumes`.
    try {
      doc_ = track::parse_json(env.read_file(path_));
    } catch (const kiln::Error&) {
      doc_ = JsonValue();
    }
  }
  if (doc_.is_object()) {
    JsonValue resumes =
        doc_.find("resumes") && doc_.find("resumes")->is_array() ? *doc_.find("resumes") : JsonValue::array();
    JsonValue entry = JsonValue::object();
    entry.set("time", str(iso8601_utc(start_)));
    entry.set("command", command_line());
    entry.set("host", str(track::describe_host().hostname));
    resumes.push_back(std::move(entry));
    doc_.set("resumes", std::move(resumes));
    doc_.set("status", str("RUNNING"));
    doc_.set("error", JsonValue());
    write();
    return;
  }

  doc_ = JsonValue::object();
  doc_.set("manifest_version", JsonValue::number(kManifestVersion));
  doc_.set("run_id", str(start.id.value));
  doc_.set("run_id_source", str(track::run_id_source_name(start.id.source)));
  doc_.set("run_dir", str(fs::absolute(start.run_dir).lexically_normal().string()));
  doc_.set("experiment", str(start.experiment));
  const config::Node* name = start.resolved ? config::select(*start.resolved, {"run", "name"}) : nullptr;
  doc_.set("name", name && name->is_scalar() ? str(name->scalar_text()) : JsonValue());
  doc_.set("status", str("RUNNING"));
  doc_.set("error", JsonValue());
  doc_.set("start_time", str(iso8601_utc(start_)));
  doc_.set("end_time", JsonValue());
  doc_.set("duration_seconds", JsonValue());
  doc_.set("command", command_line());
  std::error_code ec;
  doc_.set("cwd", str(fs::current_path(ec).string()));
  doc_.set("config_name", str(start.config_name));
  JsonValue overrides = JsonValue::array();
  for (const auto& o : start.overrides) overrides.push_back(str(o.text));
  doc_.set("overrides", std::move(overrides));
  doc_.set("seed", start.resolved ? seed_of(*start.resolved) : JsonValue());
  if (start.sweep_dir) {
    JsonValue sweep = JsonValue::object();
    sweep.set("dir", str(fs::absolute(*start.sweep_dir).lexically_normal().string()));
    sweep.set("job_index", JsonValue::number(static_cast<std::uint64_t>(start.job_index)));
    doc_.set("sweep", std::move(sweep));
  }
  JsonValue kiln = JsonValue::object();
  kiln.set("version", str(kiln::version()));
  kiln.set("commit", str(kiln::git_commit()));
  kiln.set("compiler", str(track::compiler_description()));
  doc_.set("kiln", std::move(kiln));
  doc_.set("git", git_json());
  doc_.set("host", host_json());
  doc_.set("environment", environment_json());
  doc_.set("runtime", JsonValue());
  doc_.set("dataset", start.dataset ? dataset_json(*start.dataset) : JsonValue());
  doc_.set("data", JsonValue::array());
  doc_.set("metrics", JsonValue::object());
  doc_.set("config", start.resolved ? node_to_json(*start.resolved) : JsonValue());
  write();
}

void RunManifest::set_end(const std::string& status, const std::string& runtime_json) {
  auto end = std::chrono::system_clock::now();
  doc_.set("status", str(status));
  doc_.set("end_time", str(iso8601_utc(end)));
  doc_.set("duration_seconds", JsonValue::number(std::chrono::duration<double>(end - start_).count()));
  if (!runtime_json.empty()) {
    try {
      doc_.set("runtime", track::parse_json(runtime_json));
    } catch (const track::JsonError& e) {
      doc_.set("runtime", str(std::string("unreadable: ") + e.what()));
    }
  }
}

void RunManifest::finish(const JobSummary& summary, const std::string& runtime_json) {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  ended_ = true;
  set_end("FINISHED", runtime_json);
  JsonValue data = JsonValue::array();
  for (const JobDataFile& file : summary.data_files) {
    JsonValue entry = JsonValue::object();
    std::string path = fs::absolute(file.path).lexically_normal().string();
    entry.set("path", str(path));
    entry.set("size", JsonValue::number(file.size));
    auto known = known_hashes_.find(path);
    entry.set("sha256", str(known != known_hashes_.end() ? known->second : sha256_file_hex(file.path)));
    data.push_back(std::move(entry));
  }
  doc_.set("data", std::move(data));
  JsonValue metrics = JsonValue::object();
  for (const auto& [name, value] : summary.metrics) metrics.set(name, JsonValue::number(value));
  doc_.set("metrics", std::move(metrics));
  doc_.set("steps", JsonValue::number(summary.steps));
  doc_.set("samples_per_second", JsonValue::number(summary.samples_per_second));
  write();
}

void RunManifest::fail(const std::string& error, const std::string& runtime_json) {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  ended_ = true;
  set_end("FAILED", runtime_json);
  doc_.set("error", str(error));
  write();
}

void RunManifest::kill(int signal_number) {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  ended_ = true;
  set_end("KILLED", "");
  const char* name = signal_number == SIGINT ? "SIGINT" : signal_number == SIGTERM ? "SIGTERM" : "a signal";
  doc_.set("error", str(std::string("killed by ") + name));
  write();
}

void RunManifest::write() { Env::Default().write_file_atomic(path_, track::to_json(doc_, 2) + "\n"); }

}  // namespace kiln::cli
