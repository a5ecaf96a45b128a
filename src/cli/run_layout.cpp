#include "run_layout.h"

#include "kiln/config/error.h"
#include "kiln/config/schema.h"
#include "kiln/config/yaml.h"
#include "kiln/track/env.h"
#include "kiln/track/json.h"

namespace kiln::cli {
namespace fs = std::filesystem;

fs::path runs_root(const config::Node& resolved) {
  const config::Node* root = config::select(resolved, {"run", "root"});
  if (root && root->is_string() && !root->as_string().empty()) return root->as_string();
  return "runs";
}

std::string experiment_name(const config::Node& resolved) {
  const config::Node* node = resolved.find("experiment");
  if (!node || node->is_null()) return "default";
  std::string name = node->is_string() ? node->as_string() : node->scalar_text();
  if (!node->is_scalar() || !track::is_valid_run_id(name)) {
    throw config::ConfigError(config::Diagnostic{
        "experiment", node->source(),
        "'" + (node->is_scalar() ? name : std::string("<") + (node->is_map() ? "a map" : "a list") + ">") +
            "' cannot name the experiment's directory",
        "use letters, digits, '.', '_' and '-', not starting with '.' or '-'"});
  }
  return name;
}

void write_run_config(const fs::path& run_dir, const config::ComposeResult& composed, const config::Node& resolved,
                      const std::vector<config::Override>& overrides) {
  Env& env = Env::Default();
  const fs::path meta = run_dir / ".kiln";
  env.create_dirs(meta);
  env.write_file_atomic(meta / "config.yaml", config::to_yaml(composed.config));
  env.write_file_atomic(meta / "resolved.yaml", config::to_yaml(resolved));
  config::Node override_list = config::Node::list();
  for (const auto& o : overrides) override_list.push_back(config::Node::string(o.text));
  env.write_file_atomic(meta / "overrides.yaml", config::to_yaml(override_list));
}

namespace {

// Run directories under `dir` that hold checkpoints/last, at most `depth`
// levels down (experiment / run, or multirun / sweep / job).
void find_resumable(const fs::path& dir, int depth, std::optional<fs::path>& best, fs::file_time_type& newest) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    fs::path last = it->path() / "checkpoints" / "last";
    if (fs::is_regular_file(last, ec)) {
      fs::file_time_type when = fs::last_write_time(last, ec);
      if (!ec && (!best || when > newest)) best = it->path(), newest = when;
    } else if (depth > 1) {
      find_resumable(it->path(), depth - 1, best, newest);
    }
  }
}

}  // namespace

std::optional<fs::path> run_dir_to_resume(const config::Node& resolved, const fs::path& root) {
  const config::Node* resume = config::select(resolved, {"trainer", "resume"});
  if (!resume || !resume->is_string()) return std::nullopt;
  const std::string& where = resume->as_string();
  std::error_code ec;
  if (where == "last") {
    std::optional<fs::path> best;
    fs::file_time_type newest{};
    find_resumable(root, 3, best, newest);
    if (best) return best;
    throw config::ConfigError(config::Diagnostic{"trainer.resume", resume->source(),
                                                 "no run under '" + root.string() + "' has a checkpoint to resume",
                                                 "train once without trainer.resume, or give a run directory"});
  }
  if (std::optional<fs::path> run = run_dir_of(where)) return run;
  throw config::ConfigError(config::Diagnostic{"trainer.resume", resume->source(),
                                               "'" + where + "' is not a run directory or a checkpoint",
                                               "use 'last', a run directory, or <run>/checkpoints/step-<n>"});
}

std::optional<fs::path> run_dir_of(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path / "checkpoints", ec)) return path;
  if (fs::is_regular_file(path / "last", ec)) return path.parent_path();
  if (fs::is_regular_file(path / "checkpoint.json", ec)) return path.parent_path().parent_path();
  return std::nullopt;
}

RunCheckpoint locate_run_checkpoint(const fs::path& where, const std::string& command) {
  std::optional<fs::path> run = run_dir_of(where);
  if (!run) {
    if (!Env::Default().exists(where)) throw Error(command + ": '" + where.string() + "' does not exist");
    if (Env::Default().exists(where / ".kiln" / "resolved.yaml"))
      throw Error(command + ": the run '" + where.string() + "' has no checkpoints/ yet");
    throw Error(command + ": '" + where.string() +
                "' is not a run directory (one holding .kiln/resolved.yaml), its checkpoints/ directory or a "
                "checkpoint in it");
  }
  const fs::path resolved = *run / ".kiln" / "resolved.yaml";
  if (!Env::Default().exists(resolved))
    throw Error(command + ": '" + run->string() + "' has no .kiln/resolved.yaml, so its model cannot be rebuilt");
  const bool one_checkpoint = *run != where && where.filename() != "checkpoints";
  return {*run, one_checkpoint ? where : *run / "checkpoints", config::load_yaml_file(resolved.string()).root};
}

track::RunId run_id_of(const fs::path& run_dir) {
  try {
    std::string text = Env::Default().read_file(run_dir / ".kiln" / "manifest.json");
    const track::JsonValue* id = track::parse_json(text).find("run_id");
    if (id && id->is_string() && track::is_valid_run_id(id->text()))
      return track::RunId{id->text(), track::RunIdSource::kKilnRunId};
  } catch (const kiln::Error&) {
    // No readable manifest (a run from an older kiln): fall back to the name.
  }
  return track::run_id_from_dir_name(run_dir.filename().string());
}

}  // namespace kiln::cli
