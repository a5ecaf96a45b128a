// Private: OmegaConf 2.2's interpolation grammar, parsed into a small tree.
//
// A config string such as "run_${seed}_${model.name}" parses into a Text of
// pieces (literal text and ${...} interpolations). An interpolation is either
// a node reference (${a.b}, ${..x}, ${a[0]}, ${a.${b}}) or a resolver call
// (${name:arg,...}) whose arguments are Elements typed as OmegaConf types
// them: int, float, bool, null, quoted and unquoted strings, [lists], {maps}
// and nested interpolations.
//
// The parser is a hand-written recursive descent that follows the ANTLR
// lexer modes of OmegaConf (top-level text, interpolation, value, quoted),
// including its backslash rules; see docs/config-interpolation.md. Kiln's one
// extension: unquoted arguments may contain balanced parentheses, inside
// which commas do not split arguments, so ${calc:max(1, 2)} reads as one
// expression (OmegaConf rejects '(' in unquoted arguments).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/node.h"

namespace kiln::config::interp {

struct Interpolation;
struct Element;

// Literal text and interpolations, concatenated in order.
struct Text {
  struct Piece {
    std::string literal;  // used when interpolation is null
    std::unique_ptr<Interpolation> interpolation;
  };
  std::vector<Piece> pieces;

  // Exactly one ${...} and nothing else: the value keeps the referenced type.
  bool single_interpolation() const { return pieces.size() == 1 && pieces[0].interpolation != nullptr; }
};

// One segment of a node key or a resolver name: written out, or given by a
// nested interpolation (${a.${b}}).
struct KeyPart {
  std::string name;
  std::unique_ptr<Interpolation> interpolation;
};

struct Interpolation {
  enum class Kind { kNode, kResolver };
  Kind kind = Kind::kNode;
  std::size_t begin = 0;       // offset of "${" in the parsed string
  std::size_t end = 0;         // one past the closing '}'
  int dots = 0;                // kNode: leading dots; 0 is absolute, 1 the holder's container, 2 its parent...
  std::vector<KeyPart> parts;  // kNode: key segments; kResolver: name parts joined by '.'
  std::vector<Element> args;   // kResolver
};

struct Element {
  enum class Kind {
    kValue,          // a typed literal in `value`: int, float, bool, null or string
    kText,           // pieces concatenated into a string: quoted, or unquoted text around interpolations
    kInterpolation,  // exactly one ${...}: typed as its value
    kList,           // items
    kMap,            // keys and items
  };
  Kind kind = Kind::kValue;
  Node value;
  Text text;
  std::unique_ptr<Interpolation> interpolation;
  std::vector<std::string> keys;
  std::vector<Element> items;
};

struct ParseError {
  std::size_t position = 0;  // 0-based offset into the parsed string
  std::string message;       // "expected '}' to close '${' at column 1, found end of text"
};

// Does s contain "${" at all (escaped or not)? Strings without it need no
// parsing: they are their own value.
bool has_interpolation_syntax(std::string_view s);

// Parses a config value string (top-level text). False with `error` set when
// it is not valid OmegaConf syntax.
bool parse_text(std::string_view s, Text& out, ParseError& error);

// Types one unquoted, escape-free token as OmegaConf's grammar does: "10",
// "1_000", "-1.5e3", "inf", "TRUE", "null"; anything else is a string.
Node type_grammar_token(std::string_view token);

// Splits an oc.select key ("a.b", "a[0].c", "..x") into leading dots and
// segments. False when it is not a key (empty, "a..b", unbalanced brackets).
bool split_select_key(std::string_view key, int& dots, std::vector<std::string>& segments);

}  // namespace kiln::config::interp
