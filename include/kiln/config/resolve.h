// Resolving `${...}` interpolations with OmegaConf 2.2's semantics.
//
// Composition keeps interpolations as written (so `--cfg job` can print
// them); resolve() turns a composed tree into plain values:
//
//   ${a.b}  ${a.0}  ${a[0]}          absolute keys (list indices either way)
//   ${.x}  ${..x}  ${...x}           relative: the holder's container, its parent, ...
//   ${a.${b}}                        a key built from another value
//   run_${seed}_${model.name}        string interpolation: always a string
//   ${oc.env:HOME,/tmp}  ${calc:2 * ${w}}   resolver calls (see resolver.h)
//   \${x}                            the literal text ${x}
//
// A value that is exactly one interpolation takes the referenced value's
// type; maps and lists are copied whole, themselves resolved where they are
// (a relative interpolation inside a copied map is relative to the original).
// In a string interpolation each value is written as OmegaConf's str() does:
// True, None, 1e-05, [1, 'a'] (see interpolation_text()).
//
// Errors are ConfigErrors. Each names the key holding the bad interpolation
// and its Source (file:line:col or override), except a missing value (???),
// which names the missing key and where the ??? was written. Problems in
// independent keys are collected and thrown together; a key that fails only
// because a key it reads failed adds no second error.
//
// Cost: one copy of the tree plus one parse of each interpolation string;
// no exceptions are thrown unless there is an error.
//
// Thread safety: resolve() and resolve_at() only read their arguments and
// the resolver registry; they may run concurrently. Resolvers that read the
// environment (oc.env) race with a concurrent setenv, as getenv does.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kiln/config/node.h"

namespace kiln::config {

struct ResolveOptions {
  // false (default): reading a missing value (???) is an error naming the key
  // ("missing mandatory value: model.width"); resolve() reads every value.
  // true: a ??? value, and a value that is exactly an interpolation to one,
  // stay "???" (useful to print a config that is not complete yet). A ???
  // used inside a longer string is still an error, as in OmegaConf.
  bool allow_missing = false;
  // The time ${now:...} formats. Default: one process-wide time taken at the
  // first ${now:} of the process, so every ${now:} of a run agrees.
  std::optional<std::chrono::system_clock::time_point> now;

  ResolveOptions& set_allow_missing(bool value) {
    allow_missing = value;
    return *this;
  }
  ResolveOptions& set_now(std::chrono::system_clock::time_point value) {
    now = value;
    return *this;
  }
};

// A copy of root with every interpolation resolved, recursively (strings
// holding "${" are parsed, escapes included). Throws one ConfigError with
// every problem found.
Node resolve(const Node& root, const ResolveOptions& options = {});

// The resolved value at `path` (following interpolations on the way), as
// OmegaConf's select would give it; only what that value needs is resolved.
// Throws ConfigError when the path does not exist (with "did you mean"), when
// its value is missing (unless allow_missing) or fails to resolve.
Node resolve_at(const Node& root, const KeyPath& path, const ResolveOptions& options = {});

// The text a value contributes to a string interpolation, as Python's str()
// writes OmegaConf values: "True", "None", "1e-05", "100.0", "inf", strings
// as they are, "???" for missing, and Python reprs for containers
// ("{'a': 1, 'b': [1, 'x', None]}").
std::string interpolation_text(const Node& value);

}  // namespace kiln::config
