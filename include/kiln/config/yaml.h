// YAML in and out of the config tree.
//
// Loading types plain scalars the way OmegaConf does (PyYAML's YAML 1.1 rules
// plus OmegaConf's float fix, so `1e-4` is a float and `yes` a bool), keeps
// quoted scalars as strings, records every value's file:line:col, and turns
// every yaml-cpp exception into a ConfigError with the position. A YAML tag
// `!append`, `!prepend`, `!merge_by_index` or `!replace` on a list declares how
// later lists merge into that key (see ListMerge).
//
// Emitting writes block-style YAML that loads back to an equal tree: strings
// that would otherwise read as another type are quoted.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kiln/config/node.h"

namespace kiln::config {

struct LoadedYaml {
  Node root;            // a map (an empty file gives an empty map)
  std::string package;  // from a leading "# @package X" comment, or empty
};

// Parses text; `origin` names it in sources and errors (a path or "<string>").
// Throws ConfigError on syntax errors, duplicate keys, non-string keys, or a
// top level that is not a map.
LoadedYaml load_yaml(std::string_view text, const std::string& origin);

// Reads and parses a file. Throws IoError when it cannot be read.
LoadedYaml load_yaml_file(const std::string& path);

// Types one plain (unquoted) YAML scalar as OmegaConf's loader would.
Node type_plain_scalar(std::string_view text, Source source = {});

// Block-style YAML for node (a map or list at the top), ending in "\n".
// An empty map gives "{}\n".
std::string to_yaml(const Node& node);

// A scalar as it must appear in YAML to load back to the same value
// (quoted when needed).
std::string yaml_scalar(const Node& scalar);

}  // namespace kiln::config
