// Command-line overrides in Hydra 1.3's grammar: parsing, and applying them
// to a config tree.
//
//   key=value          set an existing key            optimizer.lr=1e-4
//   +key=value         add a key that must not exist  +trainer.seed=7
//   ++key=value        add or set                     ++trainer.seed=7
//   ~key, ~key=value   delete (only if equal to value) ~trainer.seed
//   group=option       config-group selection         model=cnn, model/encoder=small, model@backbone=cnn
//   key=a,b,c          a sweep (also choice(), range(), glob()); needs --multirun
//
// Values are typed as Hydra types them: int (`1`, `-3`, `1_000`), float
// (`1.5`, `1e-4`, `inf`, `nan`), bool (`true`/`false`) and `null`, each
// case-insensitive; quoted strings ('...' or "...", always strings);
// unquoted strings (`\,` `\ ` `\(` `\)` `\[` `\]` `\{` `\}` `\:` `\=` `\\`
// escapes, inner whitespace kept, outer trimmed); interpolations `${...}`
// kept verbatim; lists `[1, a]`; dicts `{a: 1}`; `???` (Missing). `key=`
// sets the empty string. See docs/config-overrides.md for the full grammar
// and every difference from Hydra.
//
// Errors are ConfigErrors whose Diagnostic.source is the override
// ("override #2 'optimizer.lr=abc'"); syntax errors also give the column
// (1-based, in code points of the override text) where parsing failed and
// what was expected there.
//
// Thread safety: the functions are pure (no shared state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/config/source.h"
#include "kiln/config/sweep.h"

namespace kiln::config {

enum class OverrideOp {
  kSet,       // key=value
  kAdd,       // +key=value: the key must not exist yet
  kForceAdd,  // ++key=value: add, or set when it exists
  kDelete     // ~key, or ~key=value: delete only when the current value equals value
};

// "set", "add", "force-add", "delete".
const char* override_op_name(OverrideOp op);

struct Override {
  OverrideOp op = OverrideOp::kSet;
  // As typed: a dotted key ("optimizer.lr", list index "trainer.gpus.0") or a
  // config-group path ("model/encoder"). Plain keys ("model") may be either;
  // the composer decides which are groups.
  std::string key;
  std::string package;  // from "group@pkg=option", else empty
  // The value; absent for "~key" and for sweeps. For "~key=v" the value the
  // current one must equal. Every Node in it carries `source`.
  std::optional<Node> value;
  // Set when the value is a sweep ("a,b,c", choice(), range(), glob()).
  std::optional<Sweep> sweep;
  std::string text;  // the argument as typed
  int index = 0;     // 1-based position among the overrides
  Source source;     // Source::override_arg(index, text)

  bool is_sweep() const { return sweep.has_value(); }
  // The key with its prefix and package, as an override starts: "++a.b", "model@backbone".
  std::string key_text() const;
};

// Parses one override. `index` is its 1-based position (for sources and
// errors). Throws ConfigError on a syntax error (with the column and what was
// expected), an invalid key, or bad function arguments (`range(a)`).
Override parse_override(std::string_view text, int index);

// Parses every argument, indices from 1; throws one ConfigError listing the
// problems of all of them.
std::vector<Override> parse_overrides(const std::vector<std::string>& args);

// Parses one element value (no sweeps) in the override grammar: "1e-3",
// "[1, 'a', {b: 2}]", "'quoted'". For the oc.decode resolver, so it follows
// OmegaConf's decode where that differs from an override's value: the blanks
// around a value that is one unquoted string are kept (" 12 " is the string
// " 12 ", "a " is "a "). Every Node gets `source`; error columns count within
// `text`. Throws ConfigError.
Node parse_override_value(std::string_view text, const Source& source);

// `value` written in override syntax so that parse_override_value reads it
// back equal: "1", "1.0", "true", "null", "???", "abc", "'a b,c'", "[1,'x']",
// "{a:1}". Strings are single-quoted when they would otherwise read back as
// another type or hold special characters.
std::string format_override_value(const Node& value);

// Applies key overrides to `config` (a map) in order. Config-group
// selections are the composer's business: an override with a package or a
// '/' in its key is an error here ("looks like a config group"), as is a
// sweep (expand it first). Rules, as Hydra's:
//   key=v    the key must exist ("Could not override 'x': key not found",
//            with a did-you-mean and the '+x=v' spelling as hint). A map
//            value merges into an existing map (keys not named stay, as in
//            Hydra); any other value replaces the old one wholesale.
//   +key=v   the key must not exist (hint: '++'); absent parents are created
//            as maps, and a null or ??? parent becomes a map.
//   ++key=v  as +key when absent, as key=v when present.
//   ~key     the key must exist; ~key=v also requires the value to equal v
//            (an int and a float compare by number). List elements may be
//            deleted (later elements move up).
// Stricter than Hydra: a child of a scalar is never created (Hydra's ++
// silently replaces the scalar), and +key fails on every existing key, null
// and containers included. Set values carry their override's Source, so later
// errors point at "override #k 'text'". Every failing override is reported,
// all in one ConfigError; the others are still applied.
void apply_overrides(Node& config, const std::vector<Override>& overrides);

// Hydra's error for sweeps given without --multirun (-m): for "a=1,2"
// "Ambiguous value for argument 'a=1,2'" with Hydra's three suggestions (a
// list, a quoted string, --multirun); for choice()/range()/glob() "Sweep
// parameter 'a=range(3)' requires --multirun". Reports all sweeps at once;
// does nothing when there are none.
void reject_sweeps(const std::vector<Override>& overrides);

}  // namespace kiln::config
