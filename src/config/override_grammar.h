// Private to src/config/override*.cpp and sweep.cpp: the value half of the
// override grammar, shared by parse_override, parse_override_value and
// format_override_value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/config/sweep.h"

namespace kiln::config::override_grammar {

// A problem at byte offset `pos` of the text being parsed. `message` says
// what was expected and what was found; the caller adds the column.
struct SyntaxError {
  std::size_t pos = 0;
  std::string message;
  std::string hint;
};

struct ParsedValue {
  std::optional<Node> element;  // a single value, or
  std::optional<Sweep> sweep;   // a sweep (only when allowed)
};

// Parses text[begin, end of text) as an override value: an element, or with
// allow_sweep a comma-separated choice or a choice()/range()/glob() call.
// An empty (or all-blank) value is the empty string. With keep_outer_blanks,
// a value that is one unquoted string keeps the blanks around it (" 12 " is
// the string " 12 "), as OmegaConf's oc.decode does; Hydra's overrides trim
// them. Every Node gets `source`. Throws SyntaxError with offsets into `text`.
ParsedValue parse_value(std::string_view text, std::size_t begin, const Source& source, bool allow_sweep,
                        bool keep_outer_blanks = false);

// One parsed element: a value, or a sweep made by choice()/range()/glob().
struct Element {
  std::optional<Node> node;
  std::optional<Sweep> sweep;
  std::size_t pos = 0;  // where it starts
};

struct Argument {
  std::string name;  // empty for a positional argument
  Element value;
};

// Evaluates the call `name(args)`, written at text[name_pos, end), with
// Python's argument rules: choice(*values), range(start, stop=None, step=1)
// (range(n) counts from 0), glob(include, exclude=None). Throws SyntaxError
// for an unknown or unsupported function or bad arguments.
Element call_function(std::string_view text, std::size_t name_pos, std::size_t end, const std::string& name,
                      std::vector<Argument>& args, const Source& source);

// 1-based column of byte offset `pos`, counting UTF-8 code points.
int column_of(std::string_view text, std::size_t pos);

enum class PrimitiveType { kString, kInt, kFloat, kBool, kNull };

// How Hydra's lexer types an unquoted, unescaped primitive: the whole text
// must match INT, FLOAT, BOOL or NULL; anything else is a string.
PrimitiveType primitive_type(std::string_view text);

// The kind of character `c` is for unquoted values.
bool is_structural(char c);  // one of , ( ) [ ] { } = ' " : \ (needs escaping or quoting)
bool is_control(char c);     // ASCII control characters other than tab

}  // namespace kiln::config::override_grammar
