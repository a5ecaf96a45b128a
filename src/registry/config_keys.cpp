// Splitting `_target_` nodes, and the registry's messages about them.
#include "kiln/registry/config_keys.h"

#include <algorithm>

#include "kiln/config/schema_codec.h"
#include "kiln/error.h"

namespace kiln {
namespace {

namespace cfg = kiln::config;
using cfg::schema_detail::child_key;

constexpr std::size_t kListed = 20;

std::string listed_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kListed; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kListed) out += ", ...";
  return out;
}

// "(one of: adam, adamw)" or "(no optimizer is registered)".
std::string registered_text(const std::string& kind, const std::vector<std::string>& names) {
  if (names.empty()) return "(no " + kind + " is registered)";
  return "(one of: " + listed_names(names) + ")";
}

std::string name_of_a(const std::string& kind) { return "the name of a registered " + kind; }

// A key that is probably a misspelt `_target_` ("target", "_target",
// "_targte_"), or "".
std::string misspelt_target(const cfg::Node& node) {
  auto close = cfg::closest_matches(std::string(kTargetKey), node.keys(), 1);
  return close.empty() ? std::string() : close.front();
}

void add_missing_target(cfg::Diagnostics& diags, const cfg::Node& node, const std::string& key, const std::string& kind,
                        const std::vector<std::string>& names, const std::string& typo) {
  std::string hint =
      typo.empty() ? "add `_target_: <name>` to choose the " + kind : "did you mean '_target_'? (found '" + typo + "')";
  diags.add(child_key(key, std::string(kTargetKey)), node.source(),
            "missing _target_: expected " + name_of_a(kind) + " " + registered_text(kind, names), hint);
}

void add_refused_key(cfg::Diagnostics& diags, const std::string& name, const std::string& key, const cfg::Node& value) {
  const std::string full = child_key(key, name);
  if (name == "_args_") {
    diags.add(full, value.source(),
              "positional arguments (_args_) are not supported: kiln passes a factory's parameters by name",
              "write each parameter as a key of this node, e.g. `lr: 0.001`");
  } else if (name == "_recursive_") {
    diags.add(full, value.source(),
              "_recursive_ is not supported: a nested {_target_: ...} node is built only by the factory that "
              "receives it (as a kiln::Instance), never before",
              "remove _recursive_");
  } else if (name == "_convert_") {
    diags.add(full, value.source(),
              "_convert_ is not supported: parameters always convert to the factory's typed options",
              "remove _convert_");
  } else {
    diags.add(full, value.source(),
              "unknown reserved key '" + name +
                  "' (keys that start and end with '_' are reserved; kiln reads _target_ and _partial_)",
              cfg::did_you_mean(name, {std::string(kTargetKey), std::string(kPartialKey)}));
  }
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '/';
}

}  // namespace

bool is_reserved_key(std::string_view key) { return key.size() >= 2 && key.front() == '_' && key.back() == '_'; }

namespace registry_detail {

std::optional<TargetConfig> split_target_config(const cfg::Node& node, const std::string& key, const std::string& kind,
                                                const std::function<std::vector<std::string>()>& names,
                                                cfg::Diagnostics& diags) {
  const std::string expected = "a map with _target_ (" + cfg::schema_detail::with_article(kind) + ")";
  if (node.is_missing()) {
    cfg::schema_detail::add_missing_value(diags, key, node.source(), expected, false);
    return std::nullopt;
  }
  if (!node.is_map()) {
    // `optimizer: adamw` is a natural thing to write; say what to write.
    std::string hint;
    if (node.is_string() && !node.is_interpolation())
      hint = "write {_target_: " + node.as_string() + "} to choose the " + kind + " '" + node.as_string() + "'";
    cfg::schema_detail::add_type_error(diags, key, node, expected, hint);
    return std::nullopt;
  }

  const cfg::Node* target = node.find(kTargetKey);
  const std::string typo = target ? std::string() : misspelt_target(node);
  TargetConfig out;
  out.params = cfg::Node::map(node.source());
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string& name = node.keys()[i];
    const cfg::Node& value = node.at(i);
    if (!is_reserved_key(name)) {
      if (typo.empty() || name != typo) out.params.set(name, value);
    } else if (name == kPartialKey) {
      bool partial = false;
      if (cfg::schema_detail::decode_bool(value, child_key(key, name), diags, partial)) out.partial = partial;
    } else if (name != kTargetKey && (typo.empty() || name != typo)) {
      add_refused_key(diags, name, key, value);
    }
  }

  if (!target) {
    add_missing_target(diags, node, key, kind, names(), typo);
    return std::nullopt;
  }
  const std::string target_key = child_key(key, std::string(kTargetKey));
  const std::string target_expected = "a string (" + name_of_a(kind) + ")";
  if (target->is_missing()) {
    cfg::schema_detail::add_missing_value(diags, target_key, target->source(), target_expected, false);
    return std::nullopt;
  }
  if (!target->is_string() || target->is_interpolation()) {
    cfg::schema_detail::add_type_error(diags, target_key, *target, target_expected);
    return std::nullopt;
  }
  out.target = target->as_string();
  out.target_source = target->source();
  return out;
}

void add_unknown_target(cfg::Diagnostics& diags, const std::string& key, const std::string& kind,
                        const std::string& target, const cfg::Source& source, const std::vector<std::string>& names) {
  std::string hint = cfg::did_you_mean(target, names);
  if (hint.empty())
    hint = "a factory registered in a static library is linked only with --whole-archive (see docs/registry.md)";
  std::string expected =
      names.empty() ? registered_text(kind, names) : "(expected one of: " + listed_names(names) + ")";
  diags.add(child_key(key, std::string(kTargetKey)), source, "unknown " + kind + " '" + target + "' " + expected, hint);
}

void check_factory_name(const std::string& kind, const std::string& name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char))
    throw kiln::Error("cannot register " + kind + " '" + name +
                      "': a factory name is non-empty and made of letters, digits, '_', '-', '.' and '/'");
}

void throw_duplicate(const std::string& kind, const std::string& name) {
  throw kiln::Error(kind + " '" + name + "' is already registered; two factories cannot share a name (remove the " +
                    "first to replace it)");
}

}  // namespace registry_detail
}  // namespace kiln
