#include "config_loading.h"

#include <filesystem>

#include "job_schemas.h"
#include "kiln/config/dotenv.h"
#include "kiln/config/schema.h"

namespace kiln::cli {
namespace fs = std::filesystem;

config::SearchPath make_search_path(const std::vector<std::string>& config_dirs) {
  config::SearchPath search_path;
  std::error_code ec;
  for (const auto& dir : config_dirs) {
    if (!fs::is_directory(dir, ec))
      throw UsageError("--config-dir '" + dir + "' is not a directory" + (ec ? ": " + ec.message() : ""));
    search_path.add(config::directory_root(dir));
  }
  bool listed = false;
  for (const auto& dir : config_dirs)
    if (fs::equivalent(dir, "configs", ec)) listed = true;
  if (!listed && fs::is_directory("configs", ec)) search_path.add(config::directory_root("configs"));
  search_path.add(config::embedded_root(config::shipped_configs(), "kiln"));
  return search_path;
}

std::string load_dotenv_near_configs(const config::SearchPath& search_path) {
  std::error_code ec;
  for (const auto& root : search_path.roots()) {
    fs::path candidate = fs::path(root->name()) / ".env";
    if (fs::is_regular_file(candidate, ec)) {
      config::load_dotenv(candidate.string());
      return candidate.string();
    }
  }
  return {};
}

config::ComposeOptions compose_options() {
  register_builtin_job_schemas();
  return config::ComposeOptions{.list_merge_modes = config::job_schema_registry().list_merge_modes()};
}

}  // namespace kiln::cli
