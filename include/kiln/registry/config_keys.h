// The reserved keys of a `_target_` node, and how such a node splits into a
// factory name and the factory's parameters.
//
// A key that starts and ends with '_' ("_target_") is reserved, as in Hydra:
// it is read by kiln and never passed to a factory. kiln reads two:
//   _target_   the registered name of the factory, in the node's kind
//              ("adamw" among the optimizers). Required; a string.
//   _partial_  Hydra's "give me a factory, not an object" flag; a bool.
//              In kiln the C++ code that consumes the node decides (see
//              Registry::partial and kiln::Instance), so the flag states
//              intent and Hydra configs keep working; it is type-checked.
// Hydra's _args_ (positional arguments), _recursive_ and _convert_ are
// refused with an explanation: kiln passes parameters by name, nested nodes
// are built only by the factory that receives them, and parameters always
// convert to the factory's typed options. Any other reserved key is refused
// with a "did you mean".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/config/node.h"

namespace kiln {

inline constexpr std::string_view kTargetKey = "_target_";
inline constexpr std::string_view kPartialKey = "_partial_";

// True for keys that start and end with '_' and are at least two characters
// long ("_target_", "__x__"); "_" and "_x" are ordinary keys.
bool is_reserved_key(std::string_view key);

// A `_target_` node, split.
struct TargetConfig {
  std::string target;            // the `_target_` value: "adamw"
  config::Source target_source;  // where that value was written
  bool partial = false;          // the `_partial_` value (false when absent)
  config::Node params;           // the node without reserved keys: a map carrying the node's source
};

namespace registry_detail {

// Splits `node`, the subtree at dotted `key`, meant for a factory of `kind`
// ("optimizer"). Adds a diagnostic for each problem: a node that is not a
// map, a missing or non-string `_target_` (listing `names()`, the registered
// factories, called only then), a `_partial_` that is not a bool, a refused
// reserved key. Returns nullopt when no target name could be read;
// otherwise the split, even when other problems were reported.
std::optional<TargetConfig> split_target_config(const config::Node& node, const std::string& key,
                                                const std::string& kind,
                                                const std::function<std::vector<std::string>()>& names,
                                                config::Diagnostics& diags);

// "unknown optimizer 'adamww' (expected one of: adam, adamw, sgd)" at the
// `_target_` value, with a "did you mean" or, when nothing is close, a hint
// about registrations dropped by static libraries.
void add_unknown_target(config::Diagnostics& diags, const std::string& key, const std::string& kind,
                        const std::string& target, const config::Source& source, const std::vector<std::string>& names);

// Throws kiln::Error when `name` cannot be a factory name: names are
// non-empty and made of letters, digits, '_', '-', '.' and '/'.
void check_factory_name(const std::string& kind, const std::string& name);

// Throws kiln::Error "optimizer 'adamw' is already registered".
[[noreturn]] void throw_duplicate(const std::string& kind, const std::string& name);

}  // namespace registry_detail
}  // namespace kiln
