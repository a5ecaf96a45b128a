// OmegaConf's interpolation grammar by recursive descent. Each parse_* method
// consumes from pos_ and reports the first error with its position; the
// grammar is small enough that one pass with one character of lookahead
// covers it, which keeps parsing a typical config string well under a
// microsecond (no std::regex, no backtracking).
//
// The rules mirror OmegaConf 2.2's lexer modes; where they are subtle the
// comment quotes the OmegaConf behaviour being matched.
#include "interpolation_parser.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace kiln::config::interp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ws(char c) { return c == ' ' || c == '\t'; }

// OmegaConf's UNQUOTED_CHAR, ID characters and the COLON that unquoted
// arguments may contain; whitespace, escapes and parentheses are handled by
// the caller.
bool is_unquoted_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  return c != '\0' && std::string_view("_-/\\+.$%*@?|:").find(c) != std::string_view::npos;
}

// Characters that end a key segment inside ${...} (OmegaConf's INTER_KEY
// excludes exactly these).
bool ends_key(char c) { return c != '\0' && std::string_view("\\{}()[]:. \t'\"").find(c) != std::string_view::npos; }

// Characters that a backslash escapes in unquoted arguments (OmegaConf's ESC).
bool is_value_escapable(char c) {
  return c != '\0' && std::string_view("\\()[]{}:=, \t").find(c) != std::string_view::npos;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(is_alpha(s[0]) || s[0] == '_')) return false;
  for (char c : s)
    if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-')) return false;
  return true;
}

std::string column_text(std::size_t pos) { return "column " + std::to_string(pos + 1); }

// How a character is shown in a message: printable ASCII as itself, the rest
// as a code so a tab or a stray byte is visible.
std::string show_char(char c) {
  if (c == ' ') return "' ' (a space)";
  if (c == '\t') return "a tab";
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) {
    static const char* hex = "0123456789abcdef";
    return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
  }
  return std::string("'") + c + "'";
}

// Where an element ends: at `closer` (']' or '}'), at a top-level comma when
// commas separate elements, or at the end of the text ('\0' closer).
struct Ending {
  char closer;
  bool comma;
};

// Deeper nesting than any config needs; the bound keeps recursion on
// hostile input far from the stack's end.
constexpr int kMaxNesting = 100;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  const ParseError& error() const { return error_; }

  bool parse_top(Text& out) {
    std::string literal;
    while (pos_ < s_.size()) {
      std::size_t next = s_.find_first_of("\\$", pos_);
      if (next == std::string_view::npos) next = s_.size();
      literal.append(s_.substr(pos_, next - pos_));
      pos_ = next;
      if (pos_ >= s_.size()) break;
      if (s_[pos_] == '\\') {
        std::size_t run = backslash_run(pos_);
        std::size_t after = pos_ + run;
        if (!opens_at(after)) {
          literal.append(run, '\\');  // not before "${": every backslash is literal
          pos_ = after;
          continue;
        }
        // n backslashes then "${": n/2 backslashes, then a literal "${" when n
        // is odd ("\${x}" is the text ${x}) or an interpolation when even.
        literal.append(run / 2, '\\');
        pos_ = after;
        if (run % 2 == 1) {
          literal += "${";
          pos_ += 2;
          continue;
        }
      }
      if (!opens_at(pos_)) {  // a lone '$'
        literal += '$';
        ++pos_;
        continue;
      }
      if (!add_interpolation(out, literal)) return false;
    }
    flush(out, literal);
    return true;
  }

 private:
  struct Nest {
    int& depth;
    explicit Nest(int& d) : depth(d) { ++depth; }
    ~Nest() { --depth; }
  };
  bool too_deep(std::size_t pos) {
    if (depth_ <= kMaxNesting) return false;
    return !fail(pos, "interpolations, lists and maps nest more than " + std::to_string(kMaxNesting) + " levels deep");
  }

  bool fail(std::size_t pos, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_ = ParseError{pos, std::move(message)};
    }
    return false;
  }

  bool opens_at(std::size_t i) const { return i + 1 < s_.size() && s_[i] == '$' && s_[i + 1] == '{'; }
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void skip_ws() {
    while (pos_ < s_.size() && is_ws(s_[pos_])) ++pos_;
  }
  std::size_t backslash_run(std::size_t i) const {
    std::size_t n = 0;
    while (i + n < s_.size() && s_[i + n] == '\\') ++n;
    return n;
  }
  static void flush(Text& out, std::string& literal) {
    if (literal.empty()) return;
    out.pieces.push_back(Text::Piece{std::move(literal), nullptr});
    literal.clear();
  }
  bool add_interpolation(Text& out, std::string& literal) {
    auto interpolation = parse_interpolation();
    if (!interpolation) return false;
    flush(out, literal);
    out.pieces.push_back(Text::Piece{{}, std::move(interpolation)});
    return true;
  }

  // At "${". Node references and resolver calls share their start
  // ("${oc.env" could be either) and differ at the ':' that only a call has.
  std::unique_ptr<Interpolation> parse_interpolation() {
    Nest nest(depth_);
    if (too_deep(pos_)) return nullptr;
    auto node = std::make_unique<Interpolation>();
    node->begin = pos_;
    pos_ += 2;
    skip_ws();
    while (at('.')) {
      ++node->dots;
      ++pos_;
    }
    bool bracketed = false;
    bool plain_separators = true;  // only '.' between parts, as a resolver name needs
    if (!parse_key_part(*node, bracketed)) return nullptr;
    while (at('.') || at('[')) {
      if (at('.')) {
        ++pos_;
        bool inner_bracket = false;
        if (at('[') || at('.')) return fail_null(pos_, "expected a key after '.' in " + open_text(node->begin));
        if (!parse_key_part(*node, inner_bracket)) return nullptr;
      } else {
        plain_separators = false;
        bool inner_bracket = false;
        if (!parse_key_part(*node, inner_bracket)) return nullptr;
      }
    }
    skip_ws();
    if (at(':')) {
      if (node->dots > 0 || bracketed || !plain_separators)
        return fail_null(pos_, "a resolver name is letters, digits, '_' and '-' joined by '.', but " +
                                   open_text(node->begin) + " has " + (node->dots > 0 ? "leading dots" : "brackets") +
                                   " before ':'");
      for (const auto& part : node->parts)
        if (!part.interpolation && !is_identifier(part.name))
          return fail_null(node->begin + 2, "'" + part.name +
                                                "' is not a valid resolver name: use letters, digits, '_' and '-', "
                                                "starting with a letter or '_'");
      node->kind = Interpolation::Kind::kResolver;
      ++pos_;
      if (!parse_arguments(*node)) return nullptr;
    } else if (at('}')) {
      ++pos_;
    } else if (pos_ >= s_.size()) {
      return fail_null(pos_,
                       "expected '}' to close '${' at " + column_text(node->begin) + ", found the end of the text");
    } else {
      return fail_null(pos_, "unexpected " + show_char(s_[pos_]) + " in " + open_text(node->begin) +
                                 "; expected '.', '[', ':' or '}'");
    }
    node->end = pos_;
    return node;
  }

  std::unique_ptr<Interpolation> fail_null(std::size_t pos, std::string message) {
    fail(pos, std::move(message));
    return nullptr;
  }

  std::string open_text(std::size_t begin) const { return "the interpolation at " + column_text(begin); }

  // One key segment: a name, a nested ${...}, or either in brackets.
  bool parse_key_part(Interpolation& node, bool& bracketed) {
    bracketed = at('[');
    if (bracketed) ++pos_;
    KeyPart part;
    if (opens_at(pos_)) {
      part.interpolation = parse_interpolation();
      if (!part.interpolation) return false;
    } else {
      std::size_t start = pos_;
      while (pos_ < s_.size() && !ends_key(s_[pos_])) {
        if (opens_at(pos_) && pos_ > start)
          return fail(pos_, "a key cannot mix text and an interpolation ('" +
                                std::string(s_.substr(start, pos_ - start)) + "${...}'); interpolate the whole key");
        ++pos_;
      }
      if (pos_ == start) {
        if (pos_ >= s_.size())
          return fail(pos_, "expected a key in " + open_text(node.begin) + ", found the end of the text");
        return fail(pos_, "expected a key in " + open_text(node.begin) + ", found " + show_char(s_[pos_]));
      }
      part.name = std::string(s_.substr(start, pos_ - start));
    }
    if (bracketed) {
      if (!at(']')) return fail(pos_, "expected ']' to close '[' in " + open_text(node.begin));
      ++pos_;
    }
    node.parts.push_back(std::move(part));
    return true;
  }

  // After "${name:". Arguments are elements separated by top-level commas;
  // "${name:}" has none, "${name:a,}" has two (the second empty).
  bool parse_arguments(Interpolation& node) {
    skip_ws();
    if (at('}')) {
      ++pos_;
      return true;
    }
    while (true) {
      Element element;
      if (!parse_element(element, Ending{'}', true})) return false;
      node.args.push_back(std::move(element));
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (at('}')) {
        ++pos_;
        return true;
      }
      if (pos_ >= s_.size())
        return fail(pos_, "expected '}' to close '${' at " + column_text(node.begin) + ", found the end of the text");
      return fail(pos_, "unexpected " + show_char(s_[pos_]) + " in the arguments of " + open_text(node.begin));
    }
  }

  bool at_ending(const Ending& ending) const {
    if (pos_ >= s_.size()) return true;
    char c = s_[pos_];
    return (ending.comma && c == ',') || (ending.closer != '\0' && c == ending.closer);
  }

  // Leaves pos_ at the ending (or wherever the next token starts, for the
  // caller to complain about).
  bool parse_element(Element& out, const Ending& ending) {
    skip_ws();
    bool ok = false;
    if (at('[')) {
      ok = parse_list(out);
    } else if (at('{')) {
      ok = parse_map(out);
    } else if (at('\'') || at('"')) {
      ok = parse_quoted(out);
    } else {
      return parse_primitive(out, ending);
    }
    if (!ok) return false;
    skip_ws();
    if (!at_ending(ending))
      return fail(pos_, "unexpected " + show_char(s_[pos_]) + " after a " +
                            (out.kind == Element::Kind::kList  ? "list"
                             : out.kind == Element::Kind::kMap ? "map"
                                                               : "quoted string") +
                            "; quote the whole argument to make it one string");
    return true;
  }

  bool parse_list(Element& out) {
    Nest nest(depth_);
    if (too_deep(pos_)) return false;
    std::size_t open = pos_;
    ++pos_;
    out.kind = Element::Kind::kList;
    skip_ws();
    if (at(']')) {
      ++pos_;
      return true;
    }
    while (true) {
      Element item;
      if (!parse_element(item, Ending{']', true})) return false;
      out.items.push_back(std::move(item));
      if (at(',')) {
        ++pos_;
        continue;
      }
      if (at(']')) {
        ++pos_;
        return true;
      }
      return fail(pos_, "expected ',' or ']' to continue the list opened at " + column_text(open) + ", found " +
                            (pos_ >= s_.size() ? std::string("the end of the text") : show_char(s_[pos_])));
    }
  }

  bool parse_map(Element& out) {
    Nest nest(depth_);
    if (too_deep(pos_)) return false;
    std::size_t open = pos_;
    ++pos_;
    out.kind = Element::Kind::kMap;
    skip_ws();
    if (at('}')) {
      ++pos_;
      return true;
    }
    while (true) {
      std::string key;
      if (!parse_map_key(key)) return false;
      ++pos_;  // ':'
      skip_ws();
      if (pos_ >= s_.size() || at(',') || at('}'))
        return fail(pos_, "expected a value after '" + key + ":' in the map opened at " + column_text(open));
      Element value;
      if (!parse_element(value, Ending{'}', true})) return false;
      bool replaced = false;
      for (std::size_t i = 0; i < out.keys.size(); ++i) {
        if (out.keys[i] == key) {  // a repeated key keeps the last value, as a Python dict does
          out.items[i] = std::move(value);
          replaced = true;
          break;
        }
      }
      if (!replaced) {
        out.keys.push_back(std::move(key));
        out.items.push_back(std::move(value));
      }
      if (at(',')) {
        ++pos_;
        skip_ws();
        continue;
      }
      if (at('}')) {
        ++pos_;
        return true;
      }
      return fail(pos_, "expected ',' or '}' to continue the map opened at " + column_text(open) + ", found " +
                            (pos_ >= s_.size() ? std::string("the end of the text") : show_char(s_[pos_])));
    }
  }

  // A map key: unquoted characters, escapes and inner spaces, up to ':'.
  // Interpolations and quotes are not allowed in keys (as in OmegaConf).
  bool parse_map_key(std::string& key) {
    skip_ws();
    std::size_t start = pos_;
    std::size_t significant = 0;
    while (pos_ < s_.size() && s_[pos_] != ':') {
      char c = s_[pos_];
      if (c == '\\' && pos_ + 1 < s_.size() && is_value_escapable(s_[pos_ + 1])) {
        key += s_[pos_ + 1];
        pos_ += 2;
        significant = key.size();
        continue;
      }
      if (is_ws(c)) {
        key += c;
        ++pos_;
        continue;
      }
      if (opens_at(pos_)) return fail(pos_, "a map key cannot be an interpolation");
      if (!is_unquoted_char(c))
        return fail(pos_, "unexpected " + show_char(c) + " in a map key; expected 'key: value'");
      key += c;
      ++pos_;
      significant = key.size();
    }
    key.resize(significant);
    if (pos_ >= s_.size()) return fail(pos_, "expected ':' after the map key, found the end of the text");
    if (key.empty()) return fail(start, "expected a key before ':' in a map");
    return true;
  }

  // '...' or "...": text with interpolations; always a string. A backslash
  // run before the closing quote or "${" is halved, an odd one escaping it;
  // other backslashes are literal (OmegaConf's QUOTED_ESC rules).
  bool parse_quoted(Element& out) {
    char quote = s_[pos_];
    std::size_t open = pos_;
    ++pos_;
    Text text;
    std::string literal;
    while (true) {
      if (pos_ >= s_.size())
        return fail(open, std::string("unterminated quoted string: the ") + quote + " at " + column_text(open) +
                              " has no closing " + quote);
      char c = s_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\\') {
        std::size_t run = backslash_run(pos_);
        std::size_t after = pos_ + run;
        bool before_open = opens_at(after);
        bool before_quote = after < s_.size() && s_[after] == quote;
        if (!before_open && !before_quote) {
          literal.append(run, '\\');
          pos_ = after;
          continue;
        }
        literal.append(run / 2, '\\');
        pos_ = after;
        if (run % 2 == 1) {
          literal += before_open ? "${" : std::string(1, quote);
          pos_ += before_open ? 2 : 1;
        }
        continue;
      }
      if (opens_at(pos_)) {
        if (!add_interpolation(text, literal)) return false;
        continue;
      }
      literal += c;
      ++pos_;
    }
    flush(text, literal);
    if (text.pieces.empty() || (text.pieces.size() == 1 && !text.pieces[0].interpolation)) {
      out.kind = Element::Kind::kValue;
      out.value = Node::string(text.pieces.empty() ? std::string() : std::move(text.pieces[0].literal));
    } else {
      out.kind = Element::Kind::kText;
      out.text = std::move(text);
    }
    return true;
  }

  // Unquoted text up to the ending. Typed when it is one token (10, 1.5,
  // true, null); a string when it has several tokens or escapes; the value
  // itself when it is exactly one interpolation. Whitespace at either end is
  // dropped (OmegaConf's separators absorb it); escaped spaces stay.
  bool parse_primitive(Element& out, const Ending& ending) {
    Text text;
    std::string literal;
    std::size_t significant = 0;  // length of `literal` without trailing raw whitespace
    bool escaped = false;
    int depth = 0;  // parentheses: kiln's extension for calc
    std::size_t paren_open = 0;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (depth == 0 && ((ending.comma && c == ',') || (ending.closer != '\0' && c == ending.closer))) break;
      if (depth > 0 && (c == '}' || c == ']'))
        return fail(paren_open, "the '(' at " + column_text(paren_open) + " is never closed");
      if (opens_at(pos_)) {
        if (!add_interpolation(text, literal)) return false;
        significant = 0;
        continue;
      }
      if (c == '\\') {
        // "\\" is one backslash and "\," a comma (OmegaConf's ESC); a
        // backslash before anything else is itself.
        if (pos_ + 1 < s_.size() && is_value_escapable(s_[pos_ + 1])) {
          literal += s_[pos_ + 1];
          pos_ += 2;
          escaped = true;
        } else {
          literal += '\\';
          ++pos_;
        }
        significant = literal.size();
        continue;
      }
      if (is_ws(c)) {
        literal += c;
        ++pos_;
        continue;
      }
      if (c == '(') {
        if (depth++ == 0) paren_open = pos_;
      } else if (c == ')') {
        if (depth == 0) return fail(pos_, "unexpected ')' without a matching '('");
        --depth;
      } else if (c == ',' && depth > 0) {
        // inside parentheses a comma belongs to the text (max(1, 2))
      } else if (!is_unquoted_char(c)) {
        if (c == '\'' || c == '"')
          return fail(pos_, "unexpected " + show_char(c) + ": a quoted string must be the whole argument");
        if (c == '[' || c == '{')
          return fail(pos_, "unexpected " + show_char(c) + ": a list or map must be the whole argument");
        return fail(pos_, "unexpected " + show_char(c) + " in an unquoted argument; quote the argument ('...')");
      }
      literal += c;
      ++pos_;
      significant = literal.size();
    }
    if (depth > 0) return fail(paren_open, "the '(' at " + column_text(paren_open) + " is never closed");
    literal.resize(significant);
    flush(text, literal);
    if (text.pieces.empty()) {  // an empty argument, as in ${f:a,,b}
      out.kind = Element::Kind::kValue;
      out.value = Node::string("");
    } else if (text.single_interpolation()) {
      out.kind = Element::Kind::kInterpolation;
      out.interpolation = std::move(text.pieces[0].interpolation);
    } else if (text.pieces.size() == 1 && !text.pieces[0].interpolation) {
      out.kind = Element::Kind::kValue;
      out.value =
          escaped ? Node::string(std::move(text.pieces[0].literal)) : type_grammar_token(text.pieces[0].literal);
    } else {
      out.kind = Element::Kind::kText;
      out.text = std::move(text);
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  int depth_ = 0;  // nesting of ${...}, [...] and {...}, bounded so no input can exhaust the stack
  ParseError error_;
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// DIGIT ('_'? DIGIT)* from i; returns the end, or i when there is no digit.
std::size_t scan_digits(std::string_view s, std::size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return i;
  ++i;
  while (i < s.size()) {
    if (is_digit(s[i])) {
      ++i;
    } else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) {
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

// INT_UNSIGNED: '0' | [1-9] ('_'? DIGIT)*.
std::size_t scan_int_unsigned(std::string_view s, std::size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return i;
  if (s[i] == '0') return i + 1;
  return scan_digits(s, i);
}

std::string strip_underscores(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

}  // namespace

bool has_interpolation_syntax(std::string_view s) { return s.find("${") != std::string_view::npos; }

bool parse_text(std::string_view s, Text& out, ParseError& error) {
  Parser parser(s);
  if (parser.parse_top(out)) return true;
  error = parser.error();
  return false;
}

Node type_grammar_token(std::string_view token) {
  if (token.empty()) return Node::string("");
  if (iequals(token, "null")) return Node::null();
  if (iequals(token, "true")) return Node::boolean(true);
  if (iequals(token, "false")) return Node::boolean(false);
  std::size_t i = (token[0] == '+' || token[0] == '-') ? 1 : 0;
  std::string_view body = token.substr(i);
  bool negative = token[0] == '-';
  if (iequals(body, "inf"))
    return Node::floating(negative ? -std::numeric_limits<double>::infinity()
                                   : std::numeric_limits<double>::infinity());
  if (iequals(body, "nan")) return Node::floating(std::numeric_limits<double>::quiet_NaN());

  std::size_t int_end = scan_int_unsigned(token, i);
  if (int_end == token.size() && int_end > i) {
    std::string digits = strip_underscores(token);
    std::int64_t value = 0;
    const char* first = digits.data() + (digits[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(first, digits.data() + digits.size(), value);
    if (ec == std::errc() && ptr == digits.data() + digits.size()) return Node::integer(value);
    return Node::string(std::string(token));  // beyond int64: kept as text rather than wrapped
  }

  // POINT_FLOAT: INT_UNSIGNED '.' | INT_UNSIGNED? '.' DIGITS;
  // EXPONENT_FLOAT: (INT_UNSIGNED | POINT_FLOAT) [eE] [+-]? DIGITS.
  std::size_t p = int_end;
  bool has_int = int_end > i;
  bool has_point = false;
  if (p < token.size() && token[p] == '.') {
    std::size_t frac_end = scan_digits(token, p + 1);
    if (frac_end == p + 1 && !has_int) return Node::string(std::string(token));  // "." or ".e5"
    has_point = true;
    p = frac_end;
  } else if (!has_int) {
    return Node::string(std::string(token));
  }
  if (p < token.size() && (token[p] == 'e' || token[p] == 'E')) {
    std::size_t q = p + 1;
    if (q < token.size() && (token[q] == '+' || token[q] == '-')) ++q;
    std::size_t exp_end = scan_digits(token, q);
    if (exp_end == q) return Node::string(std::string(token));
    p = exp_end;
  } else if (!has_point) {
    return Node::string(std::string(token));
  }
  if (p != token.size()) return Node::string(std::string(token));
  std::string clean = strip_underscores(token);
  double value = 0;
  const char* first = clean.data() + (clean[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, clean.data() + clean.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // Python's float() gives inf or 0.0 where from_chars refuses.
    auto e = clean.find_first_of("eE");
    bool tiny = e != std::string::npos && e + 1 < clean.size() && clean[e + 1] == '-';
    value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    if (negative) value = -value;
  } else if (ec != std::errc() || ptr != clean.data() + clean.size()) {
    return Node::string(std::string(token));
  }
  return Node::floating(value);
}

bool split_select_key(std::string_view key, int& dots, std::vector<std::string>& segments) {
  dots = 0;
  segments.clear();
  std::size_t i = 0;
  while (i < key.size() && key[i] == '.') {
    ++dots;
    ++i;
  }
  if (i >= key.size()) return false;
  while (i < key.size()) {
    if (key[i] == '[') {
      std::size_t close = key.find(']', i);
      if (close == std::string_view::npos || close == i + 1) return false;
      segments.emplace_back(key.substr(i + 1, close - i - 1));
      i = close + 1;
      if (i < key.size() && key[i] == '.') {
        ++i;
        if (i >= key.size()) return false;
      }
      continue;
    }
    std::size_t end = i;
    while (end < key.size() && key[end] != '.' && key[end] != '[') ++end;
    if (end == i) return false;
    segments.emplace_back(key.substr(i, end - i));
    i = end;
    if (i < key.size() && key[i] == '.') {
      ++i;
      if (i >= key.size() || key[i] == '.') return false;
    }
  }
  return true;
}

}  // namespace kiln::config::interp
