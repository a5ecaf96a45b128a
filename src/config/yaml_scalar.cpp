// Typing of plain YAML scalars, following OmegaConf's loader: PyYAML's
// YAML 1.1 implicit resolvers (bool, int, null) plus OmegaConf's extra float
// rule that accepts `1e-4`. Written by hand rather than with std::regex: this
// runs for every scalar of every composed file and must cost nanoseconds.
//
// Deliberate difference: sexagesimal numbers (`1:30` = 90 in YAML 1.1) stay
// strings; see README "Where kiln differs from OmegaConf".
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_yaml11_bool(std::string_view s, bool& value) {
  static constexpr std::string_view kTrue[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (auto t : kTrue)
    if (s == t) return value = true, true;
  for (auto f : kFalse)
    if (s == f) return value = false, true;
  return false;
}

bool is_yaml_null(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// Digits and underscores of one base, at least one character.
template <class Pred>
bool all_of_nonempty(std::string_view s, Pred pred) {
  if (s.empty()) return false;
  for (char c : s)
    if (c != '_' && !pred(c)) return false;
  return true;
}

std::string without_underscores(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// [-+]?0b[01_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
bool parse_yaml11_int(std::string_view s, std::int64_t& value) {
  bool negative = false;
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body.empty() || !is_digit(body[0])) return false;
  int base = 10;
  std::string_view digits = body;
  if (body.size() > 2 && body[0] == '0' && body[1] == 'b') {
    base = 2;
    digits = body.substr(2);
    if (!all_of_nonempty(digits, [](char c) { return c == '0' || c == '1'; })) return false;
  } else if (body.size() > 2 && body[0] == '0' && body[1] == 'x') {
    base = 16;
    digits = body.substr(2);
    if (!all_of_nonempty(digits, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
      return false;
  } else if (body.size() > 1 && body[0] == '0') {
    base = 8;
    digits = body.substr(1);
    if (!all_of_nonempty(digits, [](char c) { return c >= '0' && c <= '7'; })) return false;
  } else if (!(body == "0" || (body[0] != '0' && all_of_nonempty(body, is_digit)))) {
    return false;
  }
  std::string clean = without_underscores(digits);
  if (clean.empty()) {  // "0b__": PyYAML reads it as 0
    value = 0;
    return true;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long magnitude = std::strtoull(clean.c_str(), &end, base);
  if (errno == ERANGE || magnitude > static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max()) + 1)
    return false;  // too large for int64: kept as a string rather than silently wrapped
  if (!negative && magnitude > static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max())) return false;
  value = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return true;
}

// [0-9][0-9_]* starting at i; returns the end index or npos when absent.
std::size_t scan_digits(std::string_view s, std::size_t i, bool first_must_be_digit) {
  if (i >= s.size() || (first_must_be_digit && !is_digit(s[i]))) return std::string_view::npos;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '_')) ++i;
  return i;
}

// Exponent [eE][-+]?[0-9]+ (sign required when sign_required) at i, to the end.
bool is_exponent(std::string_view s, std::size_t i, bool sign_required) {
  if (i >= s.size() || (s[i] != 'e' && s[i] != 'E')) return false;
  ++i;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  } else if (sign_required) {
    return false;
  }
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i)
    if (!is_digit(s[i])) return false;
  return true;
}

// The union of PyYAML's and OmegaConf's float resolvers, minus sexagesimal:
//   [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+]?[0-9]+)?
//   [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
//   \.[0-9_]+([eE][-+][0-9]+)?
//   [-+]?\.(inf|Inf|INF)   \.(nan|NaN|NAN)
bool parse_yaml_float(std::string_view s, double& value) {
  std::string_view body = s;
  bool negative = false;
  bool signed_ = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    signed_ = true;
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (!signed_ && (body == ".nan" || body == ".NaN" || body == ".NAN")) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  bool ok = false;
  if (!body.empty() && is_digit(body[0])) {
    std::size_t i = scan_digits(body, 0, true);
    if (i < body.size() && body[i] == '.') {
      std::size_t j = i + 1;
      while (j < body.size() && (is_digit(body[j]) || body[j] == '_')) ++j;
      ok = j == body.size() || is_exponent(body, j, false);
    } else {
      ok = is_exponent(body, i, false);
    }
  } else if (!signed_ && body.size() > 1 && body[0] == '.') {
    std::size_t j = 1;
    if (!(is_digit(body[1]) || body[1] == '_')) return false;
    while (j < body.size() && (is_digit(body[j]) || body[j] == '_')) ++j;
    ok = j == body.size() || is_exponent(body, j, true);
  }
  if (!ok) return false;
  std::string clean = without_underscores(s);
  value = std::strtod(clean.c_str(), nullptr);
  return true;
}

}  // namespace

Node type_plain_scalar(std::string_view text, Source source) {
  bool b = false;
  std::int64_t i = 0;
  double f = 0;
  if (is_yaml_null(text)) return Node::null(std::move(source));
  if (is_yaml11_bool(text, b)) return Node::boolean(b, std::move(source));
  if (parse_yaml11_int(text, i)) return Node::integer(i, std::move(source));
  if (parse_yaml_float(text, f)) return Node::floating(f, std::move(source));
  return Node::string(std::string(text), std::move(source));
}

}  // namespace kiln::config
