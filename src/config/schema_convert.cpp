// Scalar conversions for schemas, following OmegaConf 2.2's value nodes:
// IntegerNode takes ints and strings through Python's int(), FloatNode takes
// floats, ints and strings through float(), BooleanNode takes bools, ints
// (non-zero is true) and strings (int() first, then yes/y/on/true and
// no/n/off/false in any case), StringNode takes anything but containers and
// null. The Python parsers are reproduced here rather than approximated with
// strtoll/strtod, whose accepted spellings differ ("0x10", " 1", "1_000").
// The one deliberate difference: a bool is refused for a string field.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "kiln/config/schema_codec.h"
#include "kiln/config/yaml.h"

namespace kiln::config::schema_detail {
namespace {

// Python's str.isspace() for ASCII, which int() and float() strip.
bool is_python_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

std::string_view strip_python_space(std::string_view s) {
  while (!s.empty() && is_python_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_python_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Python's digitpart: digit (["_"] digit)*, starting at i. Appends the digits
// to `out` and returns the end, or npos when there is no valid digitpart.
std::size_t scan_digitpart(std::string_view s, std::size_t i, std::string& out) {
  if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
  while (i < s.size()) {
    if (is_digit(s[i])) {
      out += s[i++];
    } else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  return i;
}

// Python's int(s) for base 10.
bool parse_python_int(std::string_view text, WideInt& out) {
  std::string_view s = strip_python_space(text);
  WideInt w;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    w.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string digits;
  if (scan_digitpart(s, 0, digits) != s.size()) return false;
  for (char c : digits) {
    auto d = static_cast<std::uint64_t>(c - '0');
    if (w.magnitude > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
      w.overflow = true;
      break;
    }
    w.magnitude = w.magnitude * 10 + d;
  }
  out = w;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Python's float(s): [sign] (inf | infinity | nan | number), where number is
// digitpart ["." [digitpart]] [exponent] | "." digitpart [exponent].
bool parse_python_float(std::string_view text, double& out) {
  std::string_view s = strip_python_space(text);
  std::string clean;
  std::size_t i = 0;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    ++i;
  }
  std::string_view rest = s.substr(i);
  if (iequals(rest, "inf") || iequals(rest, "infinity")) {
    out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (iequals(rest, "nan")) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (negative) clean += '-';
  bool any_digits = false;
  if (i < s.size() && is_digit(s[i])) {
    i = scan_digitpart(s, i, clean);
    if (i == std::string_view::npos) return false;
    any_digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    clean += '.';
    ++i;
    if (i < s.size() && is_digit(s[i])) {
      i = scan_digitpart(s, i, clean);
      if (i == std::string_view::npos) return false;
      any_digits = true;
    }
  }
  if (!any_digits) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    clean += 'e';
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
    i = scan_digitpart(s, i, clean);
    if (i == std::string_view::npos) return false;
  }
  if (i != s.size()) return false;
  // strtod, like Python, gives inf on overflow and 0 or a subnormal on
  // underflow instead of failing.
  out = std::strtod(clean.c_str(), nullptr);
  return true;
}

std::string quoted_for_message(const std::string& s) {
  constexpr std::size_t kMax = 60;
  std::string body = s.size() > kMax ? s.substr(0, kMax) + "..." : s;
  return "'" + body + "'";
}

std::string interpolation_hint(const Node& found) {
  if (found.is_interpolation()) return "interpolations are resolved before binding; resolve the config first";
  return {};
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

// Flow-style YAML; deep trees are cut, help cells are one line anyway.
void append_flow(const Node& node, int depth, std::string& out) {
  if (depth > 32) {
    out += "...";
    return;
  }
  if (node.is_list()) {
    out += '[';
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ", ";
      append_flow(node.at(i), depth + 1, out);
    }
    out += ']';
  } else if (node.is_map()) {
    out += '{';
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ", ";
      append_flow(Node::string(node.keys()[i]), depth + 1, out);
      out += ": ";
      append_flow(node.at(i), depth + 1, out);
    }
    out += '}';
  } else {
    std::string text = yaml_scalar(node);
    // Flow collections also end plain scalars at , [ ] { }.
    if (node.is_string() && text.front() != '"' && text.find_first_of(",[]{}") != std::string::npos) {
      std::string quoted = "\"";
      for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      text = quoted + "\"";
    }
    out += text;
  }
}

}  // namespace

std::string child_key(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

std::string index_key(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string with_article(const std::string& noun) {
  bool vowel = !noun.empty() && std::string_view("aeiouAEIOU").find(noun[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + noun;
}

std::string found_text(const Node& node) {
  switch (node.kind()) {
    case Kind::kNull: return "null";
    case Kind::kMissing: return "???";
    case Kind::kString: return "string " + quoted_for_message(node.as_string());
    case Kind::kList: return "a list";
    case Kind::kMap: return "a map";
    default: return std::string(kind_name(node.kind())) + " " + node.scalar_text();
  }
}

std::string number_text(std::int64_t value) { return std::to_string(value); }
std::string number_text(std::uint64_t value) { return std::to_string(value); }
std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

std::string python_float_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, laid out by Python's repr() rule: positional
  // when -4 <= exponent < 16, else d.ddde+XX with at least two exponent digits.
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, std::fabs(value), std::chars_format::scientific);
  std::string sci(buf, result.ptr);  // "1.2345e+02"
  auto e = sci.find('e');
  std::string digits = sci.substr(0, 1) + (e > 1 ? sci.substr(2, e - 2) : "");
  int exponent = std::atoi(sci.c_str() + e + 1);
  std::string out = std::signbit(value) ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    } else {
      auto point = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= point) {
        out += digits + std::string(point - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, point) + "." + digits.substr(point);
      }
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  std::string exp_digits = std::to_string(std::abs(exponent));
  if (exp_digits.size() < 2) exp_digits = "0" + exp_digits;
  return out + "e" + (exponent < 0 ? "-" : "+") + exp_digits;
}

double float_to_double_shortest(float value) {
  if (!std::isfinite(value)) return static_cast<double>(value);
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, value);
  std::string text(buf, result.ptr);
  return std::strtod(text.c_str(), nullptr);
}

std::string flow_yaml(const Node& node) {
  std::string out;
  append_flow(node, 0, out);
  return out;
}

std::string range_text(const std::string* lo, const std::string* hi) {
  if (lo && hi) return *lo + " <= x <= " + *hi;
  if (lo) return "x >= " + *lo;
  if (hi) return "x <= " + *hi;
  return {};
}

std::string choices_text(const std::vector<std::string>& choices) { return "one of: " + join(choices, ", "); }

void add_type_error(Diagnostics& diags, const std::string& key, const Node& found, const std::string& expected,
                    std::string hint) {
  if (hint.empty()) hint = interpolation_hint(found);
  diags.add(key, found.source(), "expected " + expected + ", found " + found_text(found), hint);
}

void add_missing_value(Diagnostics& diags, const std::string& key, const Source& source, const std::string& expected,
                       bool absent) {
  std::string found = absent ? "the key is not set" : "found ???";
  std::string hint = key.empty() ? std::string() : "set it in a config file or on the command line: " + key + "=...";
  diags.add(key, source, "missing mandatory value: " + found + " (expected " + expected + ")", hint);
}

void add_out_of_range(Diagnostics& diags, const std::string& key, const Node& found, const std::string& value,
                      const std::string& range) {
  diags.add(key, found.source(), "value " + value + " is out of range: expected " + range);
}

void add_not_a_choice(Diagnostics& diags, const std::string& key, const Node& found, const std::string& value,
                      const std::vector<std::string>& choices, bool suggest) {
  std::string shown = suggest ? quoted_for_message(value) : value;
  diags.add(key, found.source(), "value " + shown + " is not allowed: expected " + choices_text(choices),
            suggest ? did_you_mean(value, choices) : std::string());
}

void add_unknown_key(Diagnostics& diags, const std::string& parent_key, const std::string& name, const Source& source,
                     const std::string& schema_name, const std::vector<std::string>& field_names) {
  constexpr std::size_t kListed = 12;
  std::vector<std::string> listed(
      field_names.begin(), field_names.begin() + static_cast<std::ptrdiff_t>(std::min(kListed, field_names.size())));
  std::string expected = field_names.empty() ? "it has no fields" : "expected one of: " + join(listed, ", ");
  if (field_names.size() > kListed) expected += ", ...";
  std::vector<std::string> candidates;
  for (const auto& f : field_names) candidates.push_back(child_key(parent_key, f));
  std::string full = child_key(parent_key, name);
  diags.add(full, source, "unknown key '" + name + "' (not a field of " + schema_name + "; " + expected + ")",
            did_you_mean(full, candidates));
}

bool decode_wide_int(const Node& node, const std::string& key, Diagnostics& diags, WideInt& out) {
  switch (node.kind()) {
    case Kind::kInt: {
      std::int64_t v = node.as_int();
      out.negative = v < 0;
      out.magnitude = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
      out.overflow = false;
      return true;
    }
    case Kind::kString:
      if (parse_python_int(node.as_string(), out)) return true;
      break;
    case Kind::kMissing: add_missing_value(diags, key, node.source(), "an int", false); return false;
    case Kind::kFloat: {
      double v = node.as_float();
      if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 1e18) {
        add_type_error(diags, key, node, "an int", "write it without a decimal point: " + number_text(v));
        return false;
      }
      break;
    }
    default: break;
  }
  add_type_error(diags, key, node, "an int");
  return false;
}

bool int_fits(const WideInt& value, std::int64_t lo, std::uint64_t hi) {
  if (value.overflow) return false;
  if (!value.negative || value.magnitude == 0) return value.magnitude <= hi;
  if (lo >= 0) return false;
  // |lo| without overflowing: -(lo + 1) + 1.
  return value.magnitude <= static_cast<std::uint64_t>(-(lo + 1)) + 1;
}

void add_integer_overflow(Diagnostics& diags, const std::string& key, const Node& found, const char* type,
                          std::int64_t lo, std::uint64_t hi) {
  std::string value = found.is_string() ? std::string(strip_python_space(found.as_string())) : found.scalar_text();
  std::string lo_text = number_text(lo), hi_text = number_text(hi);
  diags.add(key, found.source(),
            "value " + value + " is out of range for " + type + ": expected " + range_text(&lo_text, &hi_text));
}

bool decode_double(const Node& node, const std::string& key, Diagnostics& diags, double& out) {
  switch (node.kind()) {
    case Kind::kFloat: out = node.as_float(); return true;
    case Kind::kInt: out = static_cast<double>(node.as_int()); return true;
    case Kind::kString:
      if (parse_python_float(node.as_string(), out)) return true;
      break;
    case Kind::kMissing: add_missing_value(diags, key, node.source(), "a float", false); return false;
    default: break;
  }
  add_type_error(diags, key, node, "a float");
  return false;
}

void add_float_overflow(Diagnostics& diags, const std::string& key, const Node& found, double value) {
  std::string max = number_text(float_to_double_shortest(std::numeric_limits<float>::max()));
  diags.add(key, found.source(),
            "value " + number_text(value) + " is out of range for float32: expected -" + max + " <= x <= " + max);
}

bool decode_bool(const Node& node, const std::string& key, Diagnostics& diags, bool& out) {
  switch (node.kind()) {
    case Kind::kBool: out = node.as_bool(); return true;
    case Kind::kInt: out = node.as_int() != 0; return true;
    case Kind::kString: {
      const std::string& s = node.as_string();
      WideInt w;
      if (parse_python_int(s, w)) {
        out = w.overflow || w.magnitude != 0;
        return true;
      }
      for (const char* word : {"yes", "y", "on", "true"}) {
        if (iequals(s, word)) return out = true, true;
      }
      for (const char* word : {"no", "n", "off", "false"}) {
        if (iequals(s, word)) return out = false, true;
      }
      add_type_error(diags, key, node, "a bool",
                     "a bool is true/false, yes/no, on/off, y/n (any case) or an integer (0 is false)");
      return false;
    }
    case Kind::kMissing: add_missing_value(diags, key, node.source(), "a bool", false); return false;
    default: break;
  }
  add_type_error(diags, key, node, "a bool");
  return false;
}

bool decode_string(const Node& node, const std::string& key, Diagnostics& diags, std::string& out) {
  switch (node.kind()) {
    case Kind::kString: out = node.as_string(); return true;
    case Kind::kInt: out = std::to_string(node.as_int()); return true;
    case Kind::kFloat: out = python_float_text(node.as_float()); return true;
    case Kind::kMissing: add_missing_value(diags, key, node.source(), "a string", false); return false;
    case Kind::kBool:
      // OmegaConf would store "True"/"False"; YAML 1.1 makes yes/no/on/off
      // bools, so that text is almost never what the user wrote.
      add_type_error(diags, key, node, "a string",
                     "YAML reads true/false, yes/no and on/off as bools; quote the value to keep it a string");
      return false;
    default: break;
  }
  add_type_error(diags, key, node, "a string");
  return false;
}

const Node& subtree_or_empty(const Node& root, const KeyPath& path, Node& empty) {
  const Node* node = &root;
  Source deepest = root.source();
  for (const auto& segment : path) {
    const Node* next = select(*node, KeyPath{segment});
    if (next == nullptr) {
      empty = Node::map(deepest);
      return empty;
    }
    node = next;
    deepest = node->source();
  }
  return *node;
}

}  // namespace kiln::config::schema_detail
