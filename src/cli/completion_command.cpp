// Shell completion. The scripts are thin: they hand the words typed so far to
// `kiln __complete`, which answers from the search path and the composed
// config in a few milliseconds (no interpreter to start, unlike Hydra's).
#include <algorithm>
#include <iostream>

#include "commands.h"
#include "config_loading.h"
#include "kiln/config/compose.h"
#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "kiln/data/catalog_search.h"
#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::cli {
namespace {

// Bash splits words at '=' and ':' (COMP_WORDBREAKS), so the script rebuilds
// the words from COMP_LINE and strips the part before the last break from
// each candidate, as bash-completion's __ltrim_colon_completions does.
constexpr const char* kBashScript = R"(# kiln bash completion: source <(kiln completion bash)
_kiln_complete() {
  local line=${COMP_LINE:0:$COMP_POINT}
  local -a words
  read -ra words <<< "$line"
  [[ $line == *" " ]] && words+=("")
  local cur=${words[${#words[@]}-1]}
  local IFS=$'\n'
  local -a candidates
  candidates=($("${words[0]}" __complete "${words[@]:1}" 2>/dev/null))
  local prefix=""
  if [[ $cur == *[=:]* ]]; then
    prefix=${cur%"${cur##*[=:]}"}
  fi
  COMPREPLY=()
  local c
  for c in "${candidates[@]}"; do COMPREPLY+=("${c#"$prefix"}"); done
}
complete -o nospace -o default -F _kiln_complete kiln
)";

constexpr const char* kZshScript = R"(#compdef kiln
# kiln zsh completion: source <(kiln completion zsh)
_kiln() {
  local -a candidates
  candidates=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -S '' -- "${candidates[@]}"
}
if (( $+functions[compdef] )); then compdef _kiln kiln; fi
)";

const std::vector<std::string> kCommands = {"train", "runs",   "reproduce", "data",       "generate", "checkpoint",
                                            "ui",    "launch", "world",     "completion", "--help",   "--version"};
const std::vector<std::string> kDataCommands = {"ls", "info", "fetch", "verify", "add", "pack", "tokenize"};
const std::vector<std::string> kDataAddFlags = {"--from",  "--version",  "--format", "--description", "--license",
                                                "--files", "--endpoint", "--region", "--catalog"};
const std::vector<std::string> kTrainFlags = {"--config-dir", "--config-name", "--cfg",     "--resolve",
                                              "--info",       "--multirun",    "--dry-run", "--help"};

void print_matching(const std::vector<std::string>& candidates, const std::string& prefix) {
  for (const auto& c : candidates)
    if (c.starts_with(prefix)) std::cout << c << "\n";
}

void complete_train(const Args& words) {
  const std::string& current = words.back();
  ConfigArgs config;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    if ((w == "--config-dir" || w == "-cd") && i + 2 < words.size()) {
      config.config_dirs.push_back(words[++i]);
    } else if ((w == "--config-name" || w == "-cn") && i + 2 < words.size()) {
      config.config_name = words[++i];
    } else if (!w.starts_with("-")) {
      config.overrides.push_back(w);
    }
  }
  if (words.size() >= 2) {
    const std::string& previous = words[words.size() - 2];
    if (previous == "--cfg" || previous == "-c") return print_matching({"job"}, current);
    if (previous == "--config-dir" || previous == "-cd") return;  // the shell completes directories
  }
  if (current.starts_with("-")) return print_matching(kTrainFlags, current);

  config::SearchPath search_path = make_search_path(config.config_dirs);
  std::size_t sigil = current.find_first_not_of("+~");
  std::string op = current.substr(0, sigil == std::string::npos ? current.size() : sigil);
  std::string body = current.substr(op.size());
  auto eq = body.find('=');
  if (eq != std::string::npos) {
    std::string key = body.substr(0, eq);
    std::string group = key.substr(0, key.find('@'));
    if (search_path.has_group(group)) {
      std::vector<std::string> candidates;
      for (const auto& option : search_path.options(group)) candidates.push_back(op + key + "=" + option);
      print_matching(candidates, current);
    }
    return;
  }
  std::vector<std::string> candidates;
  for (const auto& group : search_path.groups()) candidates.push_back(op + group + "=");
  // Keys come from the config as composed with the overrides typed so far;
  // if those do not compose (yet), from the config without them.
  std::optional<config::Node> composed;
  config::Composer composer(search_path, compose_options());
  for (bool with_overrides : {true, false}) {
    try {
      std::vector<config::Override> overrides;
      if (with_overrides) overrides = config::parse_overrides(config.overrides);
      composed = composer.compose(config.config_name, overrides).config;
      break;
    } catch (const kiln::Error&) {
    }
  }
  if (composed) {
    for (const auto& key : config::all_keys(*composed)) {
      const config::Node* node = config::select(*composed, config::parse_key(key));
      if (node && !node->is_container()) candidates.push_back(op + key + "=");
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  print_matching(candidates, current);
}

// `kiln data <command> [NAME]`: the commands, then dataset names (with
// `@version` once an '@' is typed) from the catalogs, then flags.
void complete_data(const Args& words) {
  const std::string& current = words.back();
  if (words.size() == 1) return print_matching(kDataCommands, current);
  const std::string& command = words[0];
  if (current.starts_with("-")) {
    return print_matching(command == "add" ? kDataAddFlags : std::vector<std::string>{"--catalog", "--help"}, current);
  }
  if (command == "pack" || command == "tokenize" || command == "ls" || command == "add" || words.size() != 2) return;
  data::Catalog catalog = data::load_catalogs(data::default_catalog_locations(), Env::Default());
  std::vector<std::string> candidates;
  for (const auto& e : catalog.entries()) {
    candidates.push_back(e.name);
    candidates.push_back(e.ref());
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  if (current.find('@') == std::string::npos)
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [](const std::string& c) { return c.find('@') != std::string::npos; }),
                     candidates.end());
  print_matching(candidates, current);
}

}  // namespace

int run_completion(const Args& args) {
  if (args.size() != 1 || (args[0] != "bash" && args[0] != "zsh"))
    throw UsageError("usage: kiln completion bash|zsh  (then: source <(kiln completion bash))");
  std::cout << (args[0] == "bash" ? kBashScript : kZshScript);
  return 0;
}

int run_complete(const Args& args) {
  // args are the words after "kiln"; the last is the one being completed.
  if (args.empty()) return 0;
  if (args.size() == 1) {
    print_matching(kCommands, args[0]);
    return 0;
  }
  if (args[0] == "completion") {
    if (args.size() == 2) print_matching({"bash", "zsh"}, args[1]);
    return 0;
  }
  if (args[0] == "data") {
    try {
      complete_data(Args(args.begin() + 1, args.end()));
    } catch (const kiln::Error&) {
    }
    return 0;
  }
  if (args[0] == "train") {
    try {
      complete_train(Args(args.begin() + 1, args.end()));
    } catch (const kiln::Error&) {
      // Completion never prints errors into the user's prompt.
    }
  }
  return 0;
}

}  // namespace kiln::cli
