#include "run_recording.h"

#include <unistd.h>

#include <cstdlib>

#include "kiln/track/env.h"
#include "kiln/track/params.h"
#include "kiln/track/provenance.h"
#include "kiln/track/sha256.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

const config::Node* run_key(const config::Node& resolved, const char* key) {
  const config::Node* run = resolved.find("run");
  return run && run->is_map() ? run->find(key) : nullptr;
}

std::string user_name() {
  for (const char* variable : {"USER", "LOGNAME"})
    if (const char* value = std::getenv(variable); value && *value) return value;
  return "";
}

// In a distributed run only rank 0 writes the store (docs/runs.md).
bool is_rank_zero() {
  const char* rank = std::getenv("RANK");
  return !rank || !*rank || std::string(rank) == "0";
}

std::string json_string_at(const track::JsonValue& doc, const char* section, const char* key) {
  const track::JsonValue* object = doc.find(section);
  const track::JsonValue* value = object ? object->find(key) : nullptr;
  return value && value->is_string() ? value->text() : "";
}

}  // namespace

fs::path run_store_path(const config::Node& resolved) {
  const config::Node* store = run_key(resolved, "store");
  if (store && store->is_string() && !store->as_string().empty()) return store->as_string();
  const config::Node* root = run_key(resolved, "root");
  return fs::path(root && root->is_string() ? root->as_string() : "runs") / "kiln.db";
}

std::unique_ptr<track::RunRecorder> start_recording(const config::Node& resolved, const RunStart& start,
                                                    const RunManifest& manifest,
                                                    const std::map<std::string, std::string>& tags) {
  const config::Node* record = run_key(resolved, "record");
  if ((record && record->kind() == config::Kind::kBool && !record->as_bool()) || !is_rank_zero()) return nullptr;
  track::RunRecorderOptions options;
  options.store.path = run_store_path(resolved);
  if (const config::Node* interval = run_key(resolved, "system_metrics_interval");
      interval && (interval->kind() == config::Kind::kFloat || interval->kind() == config::Kind::kInt))
    options.system_metrics_interval_seconds =
        interval->kind() == config::Kind::kInt ? static_cast<double>(interval->as_int()) : interval->as_float();

  const track::JsonValue& doc = manifest.document();
  track::NewRun run;
  run.id = start.id.value;
  const config::Node* name = run_key(resolved, "name");
  run.name = name && name->is_scalar() && !name->is_null() ? name->scalar_text() : "";
  run.experiment = start.experiment;
  run.dir = fs::absolute(start.run_dir).lexically_normal();
  run.start_time = track::unix_time_now();
  run.user = user_name();
  run.host = track::describe_host().hostname;
  run.pid = static_cast<std::int64_t>(::getpid());
  run.git_commit = json_string_at(doc, "git", "commit");
  if (start.sweep_dir) run.sweep_id = start.sweep_dir->filename().string();
  run.params = track::flatten_params(resolved);
  run.tags = tags;
  run.manifest_json = track::to_json(doc);
  return std::make_unique<track::RunRecorder>(options, run);
}

std::vector<track::Artifact> list_artifacts(const fs::path& run_dir) {
  Env& env = Env::Default();
  std::vector<track::Artifact> out;
  auto walk = [&](auto&& self, const fs::path& dir, const std::string& prefix) -> void {
    for (const std::string& name : env.list_dir(dir)) {
      fs::path path = dir / name;
      std::optional<FileInfo> info = env.stat(path);
      if (!info) continue;  // removed meanwhile (a checkpoint rotated out)
      std::string relative = prefix.empty() ? name : prefix + "/" + name;
      if (info->is_directory) {
        self(self, path, relative);
      } else if (!name.starts_with(".tmp-")) {
        out.push_back({relative, info->size, sha256_file_hex(path)});
      }
    }
  };
  walk(walk, run_dir, "");
  return out;
}

}  // namespace kiln::cli
