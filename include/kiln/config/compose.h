// Composing a config from a search path, Hydra-style.
//
// A primary config (default `train`) names config-group options in its
// `defaults:` list; each option file may have a defaults list of its own.
// compose() walks that tree depth-first, merging each config at its package
// in defaults-list order (`_self_` marks where a config's own content goes;
// without it, own content comes last, as in Hydra >= 1.1), then applies the
// command-line overrides. The result is unresolved: interpolations are still
// strings (see resolve.h).
//
// Defaults-list entries, as in Hydra:
//   - model: cnn               group option (group relative to this config's group)
//   - /data: fashion_mnist     absolute group path
//   - model/encoder: small     nested group
//   - optional aug: default    no error when the option file does not exist
//   - override model: mlp      replaces the choice made for `model` anywhere below
//   - model: null              selects nothing
//   - model@backbone: cnn      package override (`_global_`, `_here_` and dotted paths)
//   - model: [cnn, extra]      several options of one group, merged in order
//   - other_config             a config file by path, relative to this config's dir
//   - _self_
// A `# @package X` header in a file sets its package when the defaults entry
// does not (`_global_` = root, `_group_` = the group's path).
//
// Command-line overrides whose key names a config group change the defaults
// tree: `model=mlp` (select), `+aug=strong` (append to the primary defaults),
// `~model` (remove), `model=null`. All other overrides set keys afterwards.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kiln/config/merge.h"
#include "kiln/config/node.h"
#include "kiln/config/override.h"
#include "kiln/config/search_path.h"
#include "kiln/config/yaml.h"

namespace kiln::config {

// One node of the defaults tree, for `--info` and the run manifest.
struct DefaultsTreeNode {
  std::string config_path;  // "model/cnn", or "_self_"
  std::string package;      // where its content was merged ("" = root)
  std::string file;         // the file it came from (display path)
  std::vector<DefaultsTreeNode> children;
};

struct ComposeResult {
  Node config;  // merged, overrides applied, interpolations unresolved
  // Group -> chosen option ("model" -> "cnn"; "null" when deselected), in
  // the order the groups were met. Hydra calls these the runtime choices.
  std::vector<std::pair<std::string, std::string>> choices;
  DefaultsTreeNode defaults_tree;
  std::vector<Override> group_overrides;  // the overrides that changed the defaults tree
  std::vector<Override> key_overrides;    // the overrides applied to keys
};

struct ComposeOptions {
  // Lists at these dotted keys merge with the given mode unless a YAML tag
  // says otherwise (schemas declare these; see schema.h).
  std::vector<std::pair<std::string, ListMerge>> list_merge_modes;
};

class Composer {
 public:
  explicit Composer(const SearchPath& search_path, ComposeOptions options = {});

  // Composes `config_name` ("train", or "experiments/big" for a file in a
  // subdirectory) with the overrides. Throws ConfigError listing every
  // problem found (unknown groups or options, bad defaults entries, bad
  // overrides); throws IoError only when a file exists but cannot be read.
  ComposeResult compose(const std::string& config_name, const std::vector<Override>& overrides) const;

  // True when `key` (an override key such as "model" or "model/encoder")
  // names a config group in the search path.
  bool is_group(const std::string& key) const;

  const SearchPath& search_path() const { return search_path_; }

  // Files parsed so far, by config path: a Composer parses each file once
  // (a multirun, completion and --help compose many times), so files
  // changed on disk after the first compose are not seen by this Composer.
  struct ParsedFile {
    LoadedYaml yaml;
    std::string display_path;
  };

 private:
  const SearchPath& search_path_;
  ComposeOptions options_;
  // Shared by copies; guarded by its mutex, so compose() may run on several threads.
  struct ParseCache;
  std::shared_ptr<ParseCache> cache_;
};

}  // namespace kiln::config
