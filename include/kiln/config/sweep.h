// Multirun sweeps: the values a sweep override stands for, and the jobs of a
// multirun (Hydra's BasicSweeper: the cartesian product of all sweeps).
//
//   a=1,2,3                  simple choice (Hydra calls it ambiguous without --multirun)
//   a=choice(1,[2],'x')      explicit choice
//   a=range(3)               0, 1, 2 (Python's range: stop exclusive)
//   a=range(1,10,3)          1, 4, 7
//   a=range(0,1,0.25)        0.0, 0.25, 0.5, 0.75 (floats when any bound is a float)
//   model=glob(*)            every option of config group `model`
//   model=glob([cnn,mlp])    options matching any of the patterns
//   model=glob(*,exclude=res*)
//
// Float ranges give exactly Hydra's values: start, start+step, ... added up
// in Python Decimal arithmetic (28 significant digits) and each converted to
// the nearest double, while below stop (above it for a negative step). So
// range(0,1,0.1) has 10 values and its fourth is 0.3, not 0.30000000000000004.
// An empty range is an error here (Hydra runs no jobs). Glob patterns
// are fnmatch patterns (`*`, `?`, `[abc]`, `[!abc]`), case-sensitive.
//
// Thread safety: the functions are pure; `options` is called from the
// calling thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/node.h"

namespace kiln::config {

struct Override;  // override.h, included at the end of this header

enum class SweepKind { kChoice, kRange, kGlob };

struct Sweep {
  SweepKind kind = SweepKind::kChoice;
  // True for the bare "a,b,c" form (the one Hydra calls ambiguous without
  // --multirun), false for choice(...).
  bool simple_form = false;
  std::vector<Node> choices;  // kChoice: the values, in order (each may be a list or map)
  // kRange: all ints, or at least one float (then the values are floats).
  // Validated when parsed: numbers, step != 0.
  Node start, stop, step;
  std::vector<std::string> include;  // kGlob: patterns, at least one
  std::vector<std::string> exclude;  // kGlob: patterns removed from the matches
  std::string text;                  // the sweep as typed, "range(0,3)"
};

// The option names of a config group ("model" -> {"cnn", "mlp"}), in the
// order sweeps should visit them (sorted, like SearchPath::options).
using GroupOptions = std::function<std::vector<std::string>(const std::string& group)>;

// Limits that keep a typo (range(0,1e9)) from exhausting memory. Hydra has
// none; no realistic multirun comes near them.
inline constexpr std::size_t kMaxSweepValues = 100'000;  // values of one sweep
inline constexpr std::size_t kMaxSweepJobs = 100'000;    // jobs of one multirun

// The values a sweep stands for, in order, each carrying o.source. For an
// override that is not a sweep: its value alone (nothing for "~key").
// Glob sweeps list the options of group o.key through `options`. Throws
// ConfigError naming the override when a range is empty, a glob matches
// nothing (or `options` is empty), or a sweep has more than kMaxSweepValues
// values.
std::vector<Node> sweep_values(const Override& o, const GroupOptions& options);

// The jobs of a multirun: the cartesian product of all sweeps, the first
// sweep varying slowest (Hydra's BasicSweeper order). Each job holds every
// override in its original order; a sweep is replaced by a plain override
// with one of its values, whose text is the canonical "key=value" for that
// job ("a=2", "+opt.lr=0.001", "model=cnn") and whose source is
// Source::override_arg(index, that text). With no sweeps the result is one
// job with the overrides unchanged. Throws ConfigError collecting every
// sweep's problem, or when the product exceeds kMaxSweepJobs.
std::vector<std::vector<Override>> expand_sweeps(const std::vector<Override>& overrides, const GroupOptions& options);

// fnmatch-style match of `name` against `pattern` (`*`, `?`, `[seq]`, `[!seq]`).
bool glob_match(std::string_view pattern, std::string_view name);

}  // namespace kiln::config

// Override holds a Sweep, so override.h includes this header; including it
// here, after Sweep is complete, gives users of sweep.h the whole Override.
#include "kiln/config/override.h"
