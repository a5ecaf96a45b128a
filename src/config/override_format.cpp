// Writing values back in override syntax: the inverse of the value grammar,
// used for the per-job overrides of a multirun and for hints.
#include <charconv>
#include <cmath>
#include <string>

#include "kiln/config/override.h"
#include "override_grammar.h"

namespace kiln::config {
namespace {

namespace grammar = override_grammar;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// True when `s` reads back as the same string without quotes. Conservative:
// any character with a meaning in the grammar forces quotes.
bool reads_back_unquoted(const std::string& s, bool dict_key) {
  if (s.empty()) return false;
  // Blanks would read back, but quoting them keeps job names readable.
  for (char c : s)
    if (grammar::is_structural(c) || grammar::is_control(c) || is_blank(c)) return false;
  if (s.find("${") != std::string::npos) return false;
  // Dict keys are never typed; values like "1" or "true" would be.
  return dict_key || grammar::primitive_type(s) == grammar::PrimitiveType::kString;
}

// Single quotes, escaped as Hydra's QuotedString.with_quotes does: a quote
// becomes \', and backslashes right before a quote (or the closing quote)
// are doubled. Other backslashes stay as they are.
std::string quoted(const std::string& s) {
  std::string out = "'";
  std::size_t run = 0;
  for (char c : s) {
    if (c == '\\') {
      ++run;
      continue;
    }
    if (c == '\'') {
      out.append(2 * run + 1, '\\');
    } else {
      out.append(run, '\\');
    }
    run = 0;
    out += c;
  }
  out.append(2 * run, '\\');
  return out + "'";
}

std::string string_text(const std::string& s, bool dict_key) {
  return reads_back_unquoted(s, dict_key) ? s : quoted(s);
}

std::string float_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  // "1" would read back as an int.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string format_override_value(const Node& value) {
  switch (value.kind()) {
    case Kind::kNull: return "null";
    case Kind::kBool: return value.as_bool() ? "true" : "false";
    case Kind::kInt: return std::to_string(value.as_int());
    case Kind::kFloat: return float_text(value.as_float());
    case Kind::kMissing: return "???";
    case Kind::kString: return string_text(value.as_string(), false);
    case Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ',';
        out += format_override_value(value.at(i));
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ',';
        out += string_text(value.keys()[i], true) + ":" + format_override_value(value.at(i));
      }
      return out + "}";
    }
  }
  return {};
}

}  // namespace kiln::config
