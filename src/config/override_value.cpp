// The value grammar of Hydra 1.3 overrides, as a hand-written recursive
// descent parser (Hydra uses ANTLR; kiln has no parser generator and needs
// exact error columns anyway). Function calls are evaluated in
// override_functions.cpp. The typing rules copy Hydra's lexer: a
// primitive is typed only when its whole text is one INT, FLOAT, BOOL or
// NULL token, so "01", "1 2" and "1e" stay strings.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "override_grammar.h"

namespace kiln::config::override_grammar {
namespace {

// Deep enough for any real config, shallow enough that recursion cannot
// exhaust the stack on hostile input.
constexpr int kMaxDepth = 64;

bool is_ws(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_id_start(char c) { return is_alpha(c) || c == '_'; }
bool is_id_char(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; }
// Characters that end an unquoted primitive.
bool ends_primitive(char c) { return c != '\0' && std::strchr(",()[]{}=", c) != nullptr; }
// Characters a backslash escapes in unquoted values (Hydra's ESC token).
bool is_escapable(char c) { return c != '\0' && std::strchr("\\()[]{}:=, \t", c) != nullptr; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// INT_UNSIGNED: '0' | [1-9] ('_'? [0-9])*. Returns the end, or npos.
std::size_t scan_int_unsigned(std::string_view s, std::size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
  if (s[i] == '0') return i + 1;
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

// DIGIT ('_'? DIGIT)*. Returns the end, or npos.
std::size_t scan_digits(std::string_view s, std::size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
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

// [eE] [+-]? DIGIT ('_'? DIGIT)* reaching the end of s.
bool is_exponent_to_end(std::string_view s, std::size_t i) {
  if (i >= s.size() || (s[i] != 'e' && s[i] != 'E')) return false;
  ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  return scan_digits(s, i) == s.size();
}

// FLOAT: [+-]? (POINT_FLOAT | EXPONENT_FLOAT | inf | nan), where
//   POINT_FLOAT:    INT_UNSIGNED '.' | INT_UNSIGNED? '.' DIGIT ('_'? DIGIT)*
//   EXPONENT_FLOAT: (INT_UNSIGNED | POINT_FLOAT) [eE] [+-]? DIGIT ('_'? DIGIT)*
bool is_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string_view body = s.substr(i);
  if (iequals(body, "inf") || iequals(body, "nan")) return true;
  std::size_t int_end = scan_int_unsigned(s, i);
  std::size_t j = int_end == std::string_view::npos ? i : int_end;
  if (j < s.size() && s[j] == '.') {
    std::size_t frac_end = scan_digits(s, j + 1);
    if (frac_end == std::string_view::npos) {
      if (int_end == std::string_view::npos) return false;  // "." alone
      frac_end = j + 1;
    }
    return frac_end == s.size() || is_exponent_to_end(s, frac_end);
  }
  return int_end != std::string_view::npos && is_exponent_to_end(s, int_end);
}

bool is_int(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  return scan_int_unsigned(s, i) == s.size();
}

std::string without_underscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// A character as error messages show it.
std::string shown(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return "the end of the value";
  char c = s[pos];
  if (is_control(c)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "control character 0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
    return buf;
  }
  return std::string("'") + c + "'";
}

// What to do about a structural character found where it cannot go.
std::string hint_for(char c) {
  switch (c) {
    case ')':
    case ']':
    case '}':
      return std::string("nothing is open here for it to close; to use '") + c + "' in a string, escape it as \\" + c +
             " or quote the value";
    case '(':
      return "a function call must be a whole element, name(args); to use '(' in a string, escape it as \\( or "
             "quote the value";
    case '[':
    case '{':
      return std::string("a list or dict must be a whole element; to use '") + c + "' in a string, escape it as \\" +
             c + " or quote the value";
    case '=': return "to use '=' in a string, escape it as \\= or quote the value";
    case ':': return "to use ':' in a dict key, escape it as \\: or quote the key";
    case '\'':
    case '"': return "a quoted string must be a whole element: put the quotes around all of it";
    default: return {};
  }
}

struct RawPrimitive {
  std::string text;   // unescaped; outer blanks trimmed unless asked to keep them
  bool plain = true;  // no escapes and no interpolation: eligible for typing
};

class ValueParser {
 public:
  ValueParser(std::string_view text, std::size_t begin, const Source& source, bool keep_outer_blanks)
      : s_(text), i_(begin), source_(source), keep_outer_blanks_(keep_outer_blanks) {}

  ParsedValue parse(bool allow_sweep);

 private:
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  void skip_ws() {
    while (!at_end() && is_ws(s_[i_])) ++i_;
  }
  int column(std::size_t pos) const { return column_of(s_, pos); }
  [[noreturn]] void fail(std::size_t pos, std::string message, std::string hint = {}) const {
    throw SyntaxError{pos, std::move(message), std::move(hint)};
  }

  Element parse_element();
  Node parse_list();
  Node parse_dict();
  Element parse_function(const std::string& name, std::size_t name_pos, std::size_t paren);
  std::string parse_quoted();
  RawPrimitive scan_primitive(bool dict_key, bool keep_blanks = false);
  std::size_t scan_interpolation(std::size_t open) const;
  std::size_t skip_quoted_in_interpolation(std::size_t open) const;
  Node typed(const RawPrimitive& raw, std::size_t pos) const;
  void expect_after_quoted();

  std::string_view s_;
  std::size_t i_;
  const Source& source_;
  const bool keep_outer_blanks_;
  std::size_t value_begin_ = 0;  // where the value starts, blanks included
  std::size_t first_element_ = std::string_view::npos;
  int depth_ = 0;
};

ParsedValue ValueParser::parse(bool allow_sweep) {
  value_begin_ = i_;
  skip_ws();
  std::size_t value_begin = i_;
  first_element_ = i_;
  if (at_end()) return {Node::string("", source_), std::nullopt};
  std::vector<Element> items;
  std::size_t first_comma = std::string_view::npos;
  items.push_back(parse_element());
  while (true) {
    skip_ws();
    if (at_end()) break;
    if (peek() == ',') {
      if (first_comma == std::string_view::npos) first_comma = i_;
      ++i_;
      skip_ws();
      if (at_end()) fail(i_, "expected a value after ',', found the end of the value", "remove the trailing comma");
      items.push_back(parse_element());
      continue;
    }
    fail(i_, "expected ',' or the end of the value, found " + shown(s_, i_), hint_for(peek()));
  }
  if (items.size() == 1) {
    if (items[0].sweep && !allow_sweep)
      fail(items[0].pos, "a sweep is not allowed here; expected a single value",
           "choice(), range() and glob() are only valid as the whole value of a command-line override");
    ParsedValue out;
    out.element = std::move(items[0].node);
    out.sweep = std::move(items[0].sweep);
    return out;
  }
  if (!allow_sweep)
    fail(first_comma, "a comma-separated list of values (a sweep) is not allowed here; expected a single value",
         "for a list write [a,b]; for a string containing commas, quote it or escape them as \\,");
  Sweep sweep;
  sweep.kind = SweepKind::kChoice;
  sweep.simple_form = true;
  for (auto& item : items) {
    if (item.sweep)
      fail(item.pos, "a sweep cannot be one of several comma-separated values",
           "write one sweep per key, e.g. a=choice(1,2) or a=1,2");
    sweep.choices.push_back(std::move(*item.node));
  }
  std::size_t end = s_.size();
  while (end > value_begin && is_ws(s_[end - 1])) --end;
  sweep.text = std::string(s_.substr(value_begin, end - value_begin));
  return {std::nullopt, std::move(sweep)};
}

Element ValueParser::parse_element() {
  skip_ws();
  std::size_t start = i_;
  if (at_end()) fail(i_, "expected a value, found the end of the value");
  char c = peek();
  if (c == '[' || c == '{') {
    if (depth_ >= kMaxDepth)
      fail(i_, "lists and dicts are nested more than " + std::to_string(kMaxDepth) + " levels deep");
    ++depth_;
    Node node = c == '[' ? parse_list() : parse_dict();
    --depth_;
    return {std::move(node), std::nullopt, start};
  }
  if (c == '\'' || c == '"') {
    std::string text = parse_quoted();
    expect_after_quoted();
    return {Node::string(std::move(text), source_), std::nullopt, start};
  }
  if (is_id_start(c)) {
    std::size_t j = i_;
    while (j < s_.size() && is_id_char(s_[j])) ++j;
    std::size_t k = j;
    while (k < s_.size() && is_ws(s_[k])) ++k;
    if (k < s_.size() && s_[k] == '(') {
      if (depth_ >= kMaxDepth)
        fail(i_, "function calls are nested more than " + std::to_string(kMaxDepth) + " levels deep");
      ++depth_;
      Element item = parse_function(std::string(s_.substr(i_, j - i_)), start, k);
      --depth_;
      return item;
    }
  }
  if (ends_primitive(c)) fail(i_, "expected a value, found " + shown(s_, i_), hint_for(c));
  const bool whole_value = depth_ == 0 && start == first_element_;
  if (keep_outer_blanks_ && whole_value) i_ = value_begin_;
  RawPrimitive raw = scan_primitive(false, keep_outer_blanks_ && whole_value);
  return {typed(raw, start), std::nullopt, start};
}

Node ValueParser::typed(const RawPrimitive& raw, std::size_t pos) const {
  if (!raw.plain) return Node::string(raw.text, source_);
  switch (primitive_type(raw.text)) {
    case PrimitiveType::kNull: return Node::null(source_);
    case PrimitiveType::kBool: return Node::boolean(iequals(raw.text, "true"), source_);
    case PrimitiveType::kFloat: {
      // strtod reads inf/nan in any case; out-of-range values become +-inf or 0, as Python's float() does.
      std::string clean = without_underscores(raw.text);
      return Node::floating(std::strtod(clean.c_str(), nullptr), source_);
    }
    case PrimitiveType::kInt: {
      std::string clean = without_underscores(raw.text);
      errno = 0;
      long long v = std::strtoll(clean.c_str(), nullptr, 10);
      if (errno == ERANGE)
        fail(pos, "integer " + raw.text + " is out of range for a 64-bit int",
             "quote it to keep it as a string: '" + raw.text + "'");
      return Node::integer(static_cast<std::int64_t>(v), source_);
    }
    case PrimitiveType::kString: break;
  }
  return Node::string(raw.text, source_);
}

Node ValueParser::parse_list() {
  std::size_t open = i_;
  ++i_;  // '['
  Node list = Node::list(source_);
  skip_ws();
  if (peek() == ']') {
    ++i_;
    return list;
  }
  while (true) {
    Element item = parse_element();
    if (item.sweep)
      fail(item.pos, "a sweep cannot be a list element", "a sweep must be the whole value of an override");
    list.push_back(std::move(*item.node));
    skip_ws();
    if (peek() == ',') {
      ++i_;
      skip_ws();
      if (peek() == ']') fail(i_, "expected a list element after ',', found ']'", "remove the trailing comma");
      continue;
    }
    if (peek() == ']') {
      ++i_;
      return list;
    }
    fail(i_,
         "expected ',' or ']' to close the list opened at column " + std::to_string(column(open)) + ", found " +
             shown(s_, i_),
         at_end() ? std::string{} : hint_for(peek()));
  }
}

Node ValueParser::parse_dict() {
  std::size_t open = i_;
  ++i_;  // '{'
  Node dict = Node::map(source_);
  skip_ws();
  if (peek() == '}') {
    ++i_;
    return dict;
  }
  while (true) {
    skip_ws();
    std::size_t key_pos = i_;
    std::string key;
    if (peek() == '\'' || peek() == '"') {
      key = parse_quoted();
    } else {
      if (at_end() || ends_primitive(peek()) || peek() == ':')
        fail(i_, "expected a dict key, found " + shown(s_, i_), "dict entries are written key: value");
      key = scan_primitive(true).text;
    }
    skip_ws();
    if (peek() != ':')
      fail(i_, "expected ':' after the dict key '" + key + "', found " + shown(s_, i_),
           "dict entries are written key: value");
    ++i_;
    Element value = parse_element();
    if (value.sweep)
      fail(value.pos, "a sweep cannot be a dict value", "a sweep must be the whole value of an override");
    if (dict.contains(key))
      fail(key_pos, "duplicate key '" + key + "' in the dict opened at column " + std::to_string(column(open)));
    dict.set(key, std::move(*value.node));
    skip_ws();
    if (peek() == ',') {
      ++i_;
      skip_ws();
      if (peek() == '}') fail(i_, "expected a dict key after ',', found '}'", "remove the trailing comma");
      continue;
    }
    if (peek() == '}') {
      ++i_;
      return dict;
    }
    fail(i_,
         "expected ',' or '}' to close the dict opened at column " + std::to_string(column(open)) + ", found " +
             shown(s_, i_),
         at_end() ? std::string{} : hint_for(peek()));
  }
}

// Hydra's quoted strings: a run of backslashes before the matching quote is
// halved, and an odd run escapes the quote; every other backslash is literal
// ('C:\dir' keeps its backslash).
std::string ValueParser::parse_quoted() {
  const char quote = s_[i_];
  const std::size_t open = i_;
  ++i_;
  std::string out;
  while (i_ < s_.size()) {
    char c = s_[i_];
    if (c == '\\') {
      std::size_t run_end = i_;
      while (run_end < s_.size() && s_[run_end] == '\\') ++run_end;
      std::size_t run = run_end - i_;
      if (run_end < s_.size() && s_[run_end] == quote) {
        out.append(run / 2, '\\');
        i_ = run_end + 1;
        if (run % 2 == 0) return out;  // the backslashes were escaped; the quote closes
        out += quote;
        continue;
      }
      out.append(run, '\\');
      i_ = run_end;
      continue;
    }
    ++i_;
    if (c == quote) return out;
    out += c;
  }
  fail(s_.size(),
       std::string("unterminated quoted string: expected a closing ") + quote + " for the quote at column " +
           std::to_string(column(open)) + ", found the end of the value",
       std::string("inside the quotes, write \\") + quote + " for a literal " + quote);
}

void ValueParser::expect_after_quoted() {
  std::size_t j = i_;
  while (j < s_.size() && is_ws(s_[j])) ++j;
  if (j >= s_.size() || std::strchr(",)]}", s_[j]) != nullptr) return;
  fail(j, "expected ',' or the end of the element after the quoted string, found " + shown(s_, j),
       "a quoted string must be a whole element: put the quotes around all of it");
}

RawPrimitive ValueParser::scan_primitive(bool dict_key, bool keep_blanks) {
  RawPrimitive raw;
  std::size_t kept = 0;  // length of raw.text up to its last non-blank (or escaped) character
  while (!at_end()) {
    char c = s_[i_];
    if (ends_primitive(c) || (dict_key && c == ':')) break;
    if (c == '\'' || c == '"') fail(i_, "unexpected quote inside an unquoted value", hint_for(c));
    if (is_control(c))
      fail(i_, "unexpected " + shown(s_, i_) + " in the value", "quote the value or remove the character");
    if (c == '\\') {
      if (i_ + 1 < s_.size() && is_escapable(s_[i_ + 1])) {
        raw.text += s_[i_ + 1];
        raw.plain = false;
        i_ += 2;
      } else {
        raw.text += '\\';  // not an escape sequence: a literal backslash, as in Hydra
        ++i_;
      }
      kept = raw.text.size();
      continue;
    }
    if (c == '$' && i_ + 1 < s_.size() && s_[i_ + 1] == '{') {
      if (dict_key) fail(i_, "interpolations are not allowed in dict keys", "use a plain name as the key");
      std::size_t end = scan_interpolation(i_);
      raw.text.append(s_.substr(i_, end - i_));
      raw.plain = false;
      i_ = end;
      kept = raw.text.size();
      continue;
    }
    raw.text += c;
    ++i_;
    if (!is_ws(c)) kept = raw.text.size();
  }
  if (!keep_blanks) raw.text.resize(kept);
  return raw;
}

// The end of the interpolation opened by "${" at `open`: braces nest, and
// quoted strings and backslash escapes inside are skipped. The text is kept
// verbatim for the resolver.
std::size_t ValueParser::scan_interpolation(std::size_t open) const {
  std::size_t j = open + 2;
  int depth = 1;
  while (j < s_.size()) {
    char c = s_[j];
    if (c == '\\') {
      j += 2;
      continue;
    }
    if (c == '\'' || c == '"') {
      j = skip_quoted_in_interpolation(j);
      continue;
    }
    if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return j + 1;
    }
    ++j;
  }
  fail(s_.size(),
       "unterminated interpolation: expected '}' to close the '${' at column " + std::to_string(column(open)) +
           ", found the end of the value",
       "to use a literal '${', quote the value or escape it as \\${");
}

std::size_t ValueParser::skip_quoted_in_interpolation(std::size_t open) const {
  const char quote = s_[open];
  for (std::size_t j = open + 1; j < s_.size(); ++j) {
    if (s_[j] == '\\') {
      ++j;
    } else if (s_[j] == quote) {
      return j + 1;
    }
  }
  fail(s_.size(), std::string("unterminated quoted string inside an interpolation: expected a closing ") + quote +
                      " for the quote at column " + std::to_string(column(open)));
}

Element ValueParser::parse_function(const std::string& name, std::size_t name_pos, std::size_t paren) {
  i_ = paren + 1;
  std::vector<Argument> args;
  bool named_seen = false;
  skip_ws();
  if (peek() == ')') {
    ++i_;
    return call_function(s_, name_pos, i_, name, args, source_);
  }
  while (true) {
    skip_ws();
    std::size_t arg_pos = i_;
    Argument arg;
    if (is_id_start(peek())) {
      std::size_t j = i_;
      while (j < s_.size() && is_id_char(s_[j])) ++j;
      std::size_t k = j;
      while (k < s_.size() && is_ws(s_[k])) ++k;
      if (k < s_.size() && s_[k] == '=') {
        arg.name = std::string(s_.substr(i_, j - i_));
        i_ = k + 1;
      }
    }
    if (arg.name.empty() && named_seen)
      fail(arg_pos, "positional argument follows keyword argument in " + name + "()",
           "put the positional arguments first");
    if (!arg.name.empty()) {
      for (const auto& a : args)
        if (a.name == arg.name) fail(arg_pos, name + "() got argument '" + arg.name + "' twice");
      named_seen = true;
    }
    arg.value = parse_element();
    args.push_back(std::move(arg));
    skip_ws();
    if (peek() == ',') {
      ++i_;
      skip_ws();
      if (peek() == ')') fail(i_, "expected an argument after ',', found ')'", "remove the trailing comma");
      continue;
    }
    if (peek() == ')') {
      ++i_;
      return call_function(s_, name_pos, i_, name, args, source_);
    }
    fail(i_,
         "expected ',' or ')' to close the call " + name + "( opened at column " + std::to_string(column(paren)) +
             ", found " + shown(s_, i_),
         at_end() ? std::string{} : hint_for(peek()));
  }
}

}  // namespace

bool is_structural(char c) { return c != '\0' && std::strchr(",()[]{}='\":\\", c) != nullptr; }
bool is_control(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

int column_of(std::string_view text, std::size_t pos) {
  int column = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;  // skip UTF-8 continuation bytes
  if (pos > text.size()) column += static_cast<int>(pos - text.size());
  return column;
}

PrimitiveType primitive_type(std::string_view text) {
  if (iequals(text, "null")) return PrimitiveType::kNull;
  if (iequals(text, "true") || iequals(text, "false")) return PrimitiveType::kBool;
  if (is_int(text)) return PrimitiveType::kInt;
  if (is_float(text)) return PrimitiveType::kFloat;
  return PrimitiveType::kString;
}

ParsedValue parse_value(std::string_view text, std::size_t begin, const Source& source, bool allow_sweep,
                        bool keep_outer_blanks) {
  return ValueParser(text, begin, source, keep_outer_blanks).parse(allow_sweep);
}

}  // namespace kiln::config::override_grammar
