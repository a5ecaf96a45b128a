// What every config-reading subcommand shares: the search path from
// --config-dir flags, the `.env` file next to the configs, and composing plus
// resolving a job's config.
#pragma once

#include <string>
#include <vector>

#include "kiln/config/compose.h"
#include "kiln/config/search_path.h"

namespace kiln::cli {

struct ConfigArgs {
  std::vector<std::string> config_dirs;  // --config-dir, in the order given (first wins)
  std::string config_name = "train";     // --config-name
  std::vector<std::string> overrides;    // positional key=value arguments
};

// The search path: each --config-dir, then ./configs when it exists and was
// not named already, then the configs embedded in the binary.
config::SearchPath make_search_path(const std::vector<std::string>& config_dirs);

// Loads the first `.env` found in the directories of the search path (the
// real environment wins over it). Returns its path, or "" when there is none.
std::string load_dotenv_near_configs(const config::SearchPath& search_path);

// The list-merge modes declared by the registered job schemas.
config::ComposeOptions compose_options();

}  // namespace kiln::cli
