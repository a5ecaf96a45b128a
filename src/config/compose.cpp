// The defaults-tree walk. This is the one long piece of the config layer: it
// mirrors Hydra's defaults-list semantics rule by rule, so each rule is a
// small function and the walk itself (Composition::process) reads top down.
#include "kiln/config/compose.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

std::string join_package(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "." + b;
}

std::string dotted(std::string path) {
  std::replace(path.begin(), path.end(), '/', '.');
  return path;
}

std::string dir_of(const std::string& config_path) {
  auto slash = config_path.rfind('/');
  return slash == std::string::npos ? "" : config_path.substr(0, slash);
}

std::string join_dir(const std::string& dir, const std::string& name) { return dir.empty() ? name : dir + "/" + name; }

struct DefaultEntry {
  enum class Type { kSelf, kGroup, kConfig } type = Type::kSelf;
  bool optional = false;
  bool is_override = false;
  std::string group;  // as written; a leading '/' makes it absolute
  std::string package;
  bool has_package = false;
  std::vector<std::string> options;  // empty when null_option
  bool null_option = false;
  std::string config;  // kConfig: path as written
  Source source;
};

// A choice that replaces what the defaults lists say for one group.
struct ChoiceOverride {
  std::vector<std::string> options;
  bool null_option = false;
  bool deleted = false;
  bool used = false;
  bool from_command_line = false;
  Source source;
  std::string text;  // for messages
};

std::string option_text(const Node& value) { return value.is_string() ? value.as_string() : value.scalar_text(); }

class Composition {
 public:
  using Lookup = std::function<std::optional<Composer::ParsedFile>(const std::string&)>;
  using Store = std::function<void(const std::string&, Composer::ParsedFile)>;

  Composition(const SearchPath& search_path, const ComposeOptions& options, Diagnostics& diagnostics, Lookup lookup,
              Store store)
      : search_path_(search_path),
        options_(options),
        diagnostics_(diagnostics),
        cache_lookup_(std::move(lookup)),
        cache_store_(std::move(store)) {}

  ComposeResult run(const std::string& config_name, const std::vector<Override>& overrides) {
    classify_overrides(overrides);
    std::optional<Loaded> primary = load(config_name, Source::generated("--config-name " + config_name));
    if (!primary) {
      std::vector<std::string> available = search_path_.options("");
      std::string roots;
      for (const auto& r : search_path_.roots()) roots += (roots.empty() ? "" : ", ") + r->name();
      diagnostics_.add("", Source::generated("--config-name " + config_name),
                       "cannot find primary config '" + config_name + "' in the search path (" + roots + ")",
                       available.empty() ? "pass --config-dir DIR to add a directory holding " + config_name + ".yaml"
                                         : did_you_mean(config_name, available) + " available: " + join(available));
      return std::move(result_);
    }
    stack_.push_back(config_name);
    Built tree = build(config_name, "", "", std::move(*primary), true);
    stack_.pop_back();
    merge(tree);
    result_.defaults_tree = tree.info;
    report(tree, result_.defaults_tree);
    report_unused_overrides();
    diagnostics_.collect([&] { apply_overrides(root_, result_.key_overrides); });
    result_.config = std::move(root_);
    return std::move(result_);
  }

 private:
  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
  }

  // Splits the command line into group selections and key overrides.
  void classify_overrides(const std::vector<Override>& overrides) {
    for (const auto& o : overrides) {
      bool group = search_path_.has_group(o.key);
      if (!group && o.key.find('/') != std::string::npos) {
        diagnostics_.add(o.key, o.source, "no config group '" + o.key + "' in the search path",
                         did_you_mean(o.key, search_path_.groups()));
        continue;
      }
      if (!group) {
        result_.key_overrides.push_back(o);
        continue;
      }
      result_.group_overrides.push_back(o);
      std::string slot = o.package.empty() ? o.key : o.key + "@" + o.package;
      ChoiceOverride choice{.from_command_line = true, .source = o.source, .text = o.text};
      if (o.op == OverrideOp::kDelete) {
        choice.deleted = true;
        choices_[slot] = std::move(choice);
        continue;
      }
      if (!o.value) continue;
      if (!read_options(*o.value, o.key, o.source, choice.options, choice.null_option)) continue;
      if (o.op == OverrideOp::kAdd || o.op == OverrideOp::kForceAdd) {
        DefaultEntry entry{.type = DefaultEntry::Type::kGroup,
                           .group = "/" + o.key,
                           .package = o.package,
                           .has_package = !o.package.empty(),
                           .options = choice.options,
                           .null_option = choice.null_option,
                           .source = o.source};
        appended_.push_back({std::move(entry), o.op == OverrideOp::kForceAdd});
        continue;
      }
      choices_[slot] = std::move(choice);
    }
  }

  bool read_options(const Node& value, const std::string& group, const Source& source,
                    std::vector<std::string>& options, bool& null_option) {
    if (value.is_null()) {
      null_option = true;
      return true;
    }
    if (value.is_list()) {
      for (const auto& item : value.items()) {
        if (!item.is_scalar() || item.is_null()) {
          diagnostics_.add(group, item.source(),
                           "expected option names of group '" + group + "', found a " + kind_name(item.kind()));
          return false;
        }
        options.push_back(option_text(item));
      }
      return true;
    }
    if (value.is_map()) {
      diagnostics_.add(group, source, "expected an option name of config group '" + group + "', found a map",
                       "options of '" + group + "': " + join(search_path_.options(group)));
      return false;
    }
    options.push_back(option_text(value));
    return true;
  }

  struct Loaded {
    LoadedYaml yaml;
    std::string path;  // display path, for the defaults tree
  };

  // The config at `config_path` (no .yaml), or nullopt when no root has it.
  // A file with syntax errors is reported and composes as empty.
  std::optional<Loaded> load(const std::string& config_path, const Source& reference) {
    if (std::optional<Composer::ParsedFile> cached = cache_lookup_(config_path))
      return Loaded{std::move(cached->yaml), std::move(cached->display_path)};
    std::optional<FoundFile> found = search_path_.find(config_path + ".yaml");
    if (!found) return std::nullopt;
    try {
      Loaded loaded{load_yaml(found->text, found->display_path), found->display_path};
      cache_store_(config_path, Composer::ParsedFile{loaded.yaml, loaded.path});
      return loaded;
    } catch (const ConfigError& e) {
      for (const auto& d : e.diagnostics()) diagnostics_.add(d);
      return Loaded{LoadedYaml{Node::map(reference), {}}, found->display_path};
    }
  }

  // Parses one entry of a defaults list.
  std::optional<DefaultEntry> parse_entry(const Node& item, const std::string& where) {
    DefaultEntry entry;
    entry.source = item.source();
    if (item.is_string()) {
      if (item.as_string() == "_self_") return entry;
      entry.type = DefaultEntry::Type::kConfig;
      entry.config = item.as_string();
      return entry;
    }
    if (!item.is_map() || item.size() != 1) {
      diagnostics_.add(
          where, item.source(),
          std::string("a defaults-list entry must be '_self_', a config name, or one "
                      "'group: option' pair; found a ") +
              (item.is_map() ? "map with " + std::to_string(item.size()) + " keys" : kind_name(item.kind())),
          "write entries as '- model: cnn', '- optional aug: none', '- override model: mlp'");
      return std::nullopt;
    }
    entry.type = DefaultEntry::Type::kGroup;
    entry.source = item.at(0).source();  // errors point at the option
    std::string key = item.keys()[0];
    // "optional group@pkg" / "override group" keywords, separated by spaces.
    std::vector<std::string> words;
    for (std::size_t start = 0; start < key.size();) {
      std::size_t end = key.find(' ', start);
      if (end == std::string::npos) end = key.size();
      if (end > start) words.push_back(key.substr(start, end - start));
      start = end + 1;
    }
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "optional") {
        entry.optional = true;
      } else if (words[i] == "override") {
        entry.is_override = true;
      } else {
        diagnostics_.add(where, item.source(), "unknown keyword '" + words[i] + "' in defaults entry '" + key + "'",
                         "the keywords are 'optional' and 'override'");
        return std::nullopt;
      }
    }
    if (words.empty()) {
      diagnostics_.add(where, item.source(), "empty group name in a defaults-list entry");
      return std::nullopt;
    }
    std::string group = words.back();
    if (auto at = group.find('@'); at != std::string::npos) {
      entry.package = group.substr(at + 1);
      entry.has_package = true;
      group = group.substr(0, at);
    }
    entry.group = group;
    if (!read_options(item.at(0), group, item.at(0).source(), entry.options, entry.null_option)) return std::nullopt;
    return entry;
  }

  std::vector<DefaultEntry> parse_defaults(const Node& list, const std::string& config_path) {
    std::vector<DefaultEntry> entries;
    if (!list.is_list()) {
      diagnostics_.add(
          "defaults", list.source(),
          std::string("the defaults list of '") + config_path + "' must be a list, found a " + kind_name(list.kind()));
      return entries;
    }
    for (const auto& item : list.items())
      if (auto entry = parse_entry(item, "defaults")) entries.push_back(std::move(*entry));
    return entries;
  }

  static std::string absolute_group(const DefaultEntry& entry, const std::string& group_dir) {
    if (!entry.group.empty() && entry.group[0] == '/') return entry.group.substr(1);
    return join_dir(group_dir, entry.group);
  }

  static std::string package_from_directive(const std::string& directive, const std::string& parent_package,
                                            const std::string& group_package) {
    if (directive == "_global_") return "";
    if (directive.starts_with("_global_.")) return directive.substr(9);
    if (directive == "_here_") return parent_package;
    if (directive == "_group_") return group_package;
    if (directive.starts_with("_group_.")) return join_package(group_package, directive.substr(8));
    return join_package(parent_package, directive);
  }

  // The package a child config lands in: an explicit @pkg, else its
  // `# @package` header, else its group's path under the parent's package.
  static std::string child_package(const DefaultEntry& entry, const LoadedYaml& child,
                                   const std::string& parent_package, const std::string& default_package) {
    if (entry.has_package) return package_from_directive(entry.package, parent_package, default_package);
    if (!child.package.empty()) {
      if (child.package == "_global_") return "";
      if (child.package == "_group_") return default_package;
      if (child.package == "_here_") return parent_package;
      if (child.package.starts_with("_global_.")) return child.package.substr(9);
      return child.package;
    }
    return default_package;
  }

  void merge_at(const std::string& package, const Node& content) {
    Node* target = &root_;
    KeyPath path;
    if (!package.empty()) {
      for (const auto& segment : parse_key(package)) {
        path.push_back(segment);
        Node* next = target->find(segment);
        if (!next) next = &target->set(segment, Node::map(content.source()));
        if (!next->is_map()) {
          diagnostics_.add(format_key(path), content.source(),
                           "cannot place config content at package '" + package + "': '" + format_key(path) +
                               "' is a " + kind_name(next->kind()) + " (" + next->source().str() + "), not a map");
          return;
        }
        target = next;
      }
    }
    diagnostics_.collect([&] { merge_into(*target, content, path); });
    for (const auto& [key, mode] : options_.list_merge_modes) {
      Node* node = select(root_, parse_key(key));
      if (node && node->is_list() && node->list_merge() == ListMerge::kDefault) node->set_list_merge(mode);
    }
  }

  // A node of the defaults tree while composing: what DefaultsTreeNode
  // reports, plus the content it merges.
  struct Built {
    enum class Kind { kConfig, kSelf, kNullChoice } kind = Kind::kConfig;
    std::string group;   // for group options and null choices
    std::string option;  // "null" for a null choice
    DefaultsTreeNode info;
    Node content;  // kConfig: the file's own content, merged where its kSelf child stands
    std::vector<Built> children;
  };

  // Builds the subtree of one config. Entries are expanded last to first, as
  // Hydra does, so that an `override` in a later entry (an experiment
  // appended with +experiment=...) applies to the groups before it.
  Built build(const std::string& config_path, const std::string& group_dir, const std::string& package, Loaded file,
              bool primary) {
    Built node;
    node.info = DefaultsTreeNode{config_path, package, file.path, {}};
    node.content = std::move(file.yaml.root);
    std::vector<DefaultEntry> entries;
    if (const Node* defaults = node.content.find("defaults")) {
      entries = parse_defaults(*defaults, config_path);
      node.content.erase("defaults");
    }
    if (primary) append_command_line_groups(entries);
    register_file_overrides(entries, group_dir);
    if (std::none_of(entries.begin(), entries.end(),
                     [](const DefaultEntry& e) { return e.type == DefaultEntry::Type::kSelf; })) {
      entries.push_back(DefaultEntry{});  // Hydra >= 1.1: own content last
    }
    std::vector<std::vector<Built>> expanded(entries.size());
    std::vector<std::vector<Diagnostic>> problems(entries.size());  // reported in file order
    for (std::size_t i = entries.size(); i-- > 0;) {
      const DefaultEntry& e = entries[i];
      const std::size_t mark = diagnostics_.size();
      switch (e.type) {
        case DefaultEntry::Type::kSelf:
          expanded[i].push_back(Built{Built::Kind::kSelf, "", "", DefaultsTreeNode{"_self_", package, file.path, {}}});
          break;
        case DefaultEntry::Type::kGroup:
          if (!e.is_override) expanded[i] = expand_group(e, group_dir, package);
          break;
        case DefaultEntry::Type::kConfig:
          if (auto child = expand_config(e, config_path, package)) expanded[i].push_back(std::move(*child));
          break;
      }
      problems[i] = diagnostics_.take_since(mark);
    }
    for (auto& list : problems)
      for (auto& d : list) diagnostics_.add(std::move(d));
    for (auto& children : expanded)
      for (auto& child : children) node.children.push_back(std::move(child));
    return node;
  }

  // `+group=option` from the command line joins the primary defaults list.
  void append_command_line_groups(std::vector<DefaultEntry>& entries) {
    for (auto& [entry, force] : appended_) {
      std::string group = entry.group.substr(1);
      bool present = std::any_of(entries.begin(), entries.end(), [&](const DefaultEntry& e) {
        return e.type == DefaultEntry::Type::kGroup && !e.is_override && absolute_group(e, "") == group;
      });
      if (present && !force) {
        diagnostics_.add(group, entry.source, "cannot append '" + group + "' to the defaults list: it is already there",
                         "to change its option use '" + group + "=" + join(entry.options) + "'");
      } else if (present) {  // ++group=option selects instead
        choices_[group] = ChoiceOverride{.options = entry.options,
                                         .null_option = entry.null_option,
                                         .from_command_line = true,
                                         .source = entry.source};
      } else {
        entries.push_back(entry);
      }
    }
  }

  // `override group: option` entries change the choice for that group
  // wherever it appears; the command line and configs met earlier win.
  void register_file_overrides(const std::vector<DefaultEntry>& entries, const std::string& group_dir) {
    for (const auto& e : entries) {
      if (!e.is_override) continue;
      std::string slot = absolute_group(e, group_dir);
      if (e.has_package) slot += "@" + e.package;
      overridden_in_files_.push_back({slot, e.source});
      if (!choices_.count(slot))
        choices_[slot] = ChoiceOverride{.options = e.options, .null_option = e.null_option, .source = e.source};
    }
  }

  ChoiceOverride* find_choice(const DefaultEntry& e, const std::string& group) {
    if (e.has_package) {
      if (auto it = choices_.find(group + "@" + e.package); it != choices_.end()) return &it->second;
    }
    auto it = choices_.find(group);
    return it == choices_.end() ? nullptr : &it->second;
  }

  std::vector<Built> expand_group(const DefaultEntry& e, const std::string& group_dir, const std::string& package) {
    std::string group = absolute_group(e, group_dir);
    std::vector<std::string> options = e.options;
    bool null_option = e.null_option;
    Source reference = e.source;
    if (ChoiceOverride* choice = find_choice(e, group)) {
      choice->used = true;
      if (choice->deleted) return {};
      options = choice->options;
      null_option = choice->null_option;
      reference = choice->source;
    }
    std::vector<Built> out;
    if (null_option) {
      out.push_back(Built{Built::Kind::kNullChoice, group, "null"});
      return out;
    }
    std::string default_package = e.group.starts_with("/") ? dotted(group) : join_package(package, dotted(e.group));
    for (const auto& option : options) {
      std::string path = group + "/" + option;
      if (std::find(stack_.begin(), stack_.end(), path) != stack_.end()) {
        report_cycle(path, reference);
        continue;
      }
      std::optional<Loaded> child = load(path, reference);
      if (!child) {
        if (e.optional) continue;
        std::vector<std::string> available = search_path_.options(group);
        diagnostics_.add(group, reference,
                         "could not find option '" + option + "' of config group '" + group + "'" +
                             (available.empty() ? std::string(" (the group is empty or missing)")
                                                : "; available options: " + join(available)),
                         did_you_mean(option, available));
        continue;
      }
      std::string child_pkg = child_package(e, child->yaml, package, default_package);
      stack_.push_back(path);
      Built built = build(path, group, child_pkg, std::move(*child), false);
      stack_.pop_back();
      built.group = group;
      built.option = option;
      out.push_back(std::move(built));
    }
    return out;
  }

  std::optional<Built> expand_config(const DefaultEntry& e, const std::string& config_path,
                                     const std::string& package) {
    std::string path = e.config.starts_with("/") ? e.config.substr(1) : join_dir(dir_of(config_path), e.config);
    if (std::find(stack_.begin(), stack_.end(), path) != stack_.end()) {
      report_cycle(path, e.source);
      return std::nullopt;
    }
    std::optional<Loaded> child = load(path, e.source);
    if (!child) {
      diagnostics_.add("defaults", e.source, "could not find config '" + path + "' named in the defaults list",
                       did_you_mean(e.config, search_path_.options(dir_of(path))));
      return std::nullopt;
    }
    std::string default_package = join_package(package, dotted(dir_of(e.config.starts_with("/") ? path : e.config)));
    std::string child_pkg = child_package(e, child->yaml, package, default_package);
    stack_.push_back(path);
    Built built = build(path, dir_of(path), child_pkg, std::move(*child), false);
    stack_.pop_back();
    return built;
  }

  // Merges a built subtree into the result, in defaults-list order.
  void merge(const Built& node) {
    for (const auto& child : node.children) {
      switch (child.kind) {
        case Built::Kind::kSelf: merge_at(child.info.package, node.content); break;
        case Built::Kind::kConfig: merge(child); break;
        case Built::Kind::kNullChoice: break;
      }
    }
  }

  // The defaults tree and the group choices, in defaults-list order.
  void report(const Built& node, DefaultsTreeNode& info) {
    for (const auto& child : node.children) {
      if (!child.group.empty()) result_.choices.emplace_back(child.group, child.option);
      if (child.kind == Built::Kind::kNullChoice) continue;
      info.children.push_back(child.info);
      report(child, info.children.back());
    }
  }

  void report_cycle(const std::string& path, const Source& source) {
    std::string cycle;
    for (const auto& p : stack_) cycle += p + " -> ";
    diagnostics_.add("defaults", source, "defaults-list cycle: " + cycle + path);
  }

  void report_unused_overrides() {
    for (const auto& [slot, choice] : choices_) {
      if (choice.used) continue;
      if (choice.from_command_line) {
        std::string group = slot.substr(0, slot.find('@'));
        diagnostics_.add(group, choice.source,
                         "could not " + std::string(choice.deleted ? "delete" : "override") + " config group '" + slot +
                             "': it is not in the defaults list",
                         choice.deleted ? "" : "to append it to the defaults list use '+" + choice.text + "'");
      }
    }
    for (const auto& [slot, source] : overridden_in_files_) {
      auto it = choices_.find(slot);
      if (it != choices_.end() && !it->second.used && !it->second.from_command_line)
        diagnostics_.add(slot, source, "'override " + slot + "' matches no group in the defaults tree",
                         did_you_mean(slot, search_path_.groups()));
    }
  }

  const SearchPath& search_path_;
  const ComposeOptions& options_;
  Diagnostics& diagnostics_;
  Lookup cache_lookup_;
  Store cache_store_;
  ComposeResult result_;
  Node root_ = Node::map();
  std::map<std::string, ChoiceOverride> choices_;
  std::vector<std::pair<DefaultEntry, bool>> appended_;  // (+group=option, was it ++)
  std::vector<std::pair<std::string, Source>> overridden_in_files_;
  std::vector<std::string> stack_;
};

}  // namespace

struct Composer::ParseCache {
  std::mutex mutex;
  std::map<std::string, ParsedFile> files;
};

Composer::Composer(const SearchPath& search_path, ComposeOptions options)
    : search_path_(search_path), options_(std::move(options)), cache_(std::make_shared<ParseCache>()) {}

ComposeResult Composer::compose(const std::string& config_name, const std::vector<Override>& overrides) const {
  Diagnostics diagnostics;
  auto lookup = [cache = cache_](const std::string& path) -> std::optional<ParsedFile> {
    std::lock_guard<std::mutex> lock(cache->mutex);
    auto it = cache->files.find(path);
    if (it == cache->files.end()) return std::nullopt;
    return it->second;
  };
  auto store = [cache = cache_](const std::string& path, ParsedFile file) {
    std::lock_guard<std::mutex> lock(cache->mutex);
    cache->files.emplace(path, std::move(file));
  };
  Composition composition(search_path_, options_, diagnostics, lookup, store);
  ComposeResult result = composition.run(config_name, overrides);
  diagnostics.throw_if_any();
  return result;
}

bool Composer::is_group(const std::string& key) const { return search_path_.has_group(key); }

}  // namespace kiln::config
