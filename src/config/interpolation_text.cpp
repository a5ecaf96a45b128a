// Python's str() and repr() of config values, for string interpolation.
// OmegaConf builds "run_${lr}" with str(value), so kiln must spell floats as
// Python's repr does (shortest round-trip digits, scientific notation below
// 1e-4 and from 1e16 on, "1e-05" with a two-digit exponent) and containers
// as Python's dict/list reprs.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "kiln/config/resolve.h"

namespace kiln::config {
namespace {

// Python's float repr: repr(0.1) == "0.1", repr(1e16) == "1e+16",
// repr(1e-5) == "1e-05", repr(100.0) == "100.0".
std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);  // "-1.2345e+16"
  bool negative = !sci.empty() && sci[0] == '-';
  if (negative) sci.erase(0, 1);
  auto e = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  int exponent = std::atoi(sci.c_str() + e + 1);
  int point = exponent + 1;  // digits[0..point) come before the decimal point

  std::string out = negative ? "-" : "";
  if (point > -4 && point <= 16) {
    if (point <= 0) {
      out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (static_cast<std::size_t>(point) >= digits.size()) {
      out += digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exponent < 0 ? "e-" : "e+";
  int magnitude = exponent < 0 ? -exponent : exponent;
  if (magnitude < 10) out += '0';
  out += std::to_string(magnitude);
  return out;
}

// Python's repr of a str: single quotes unless the text has a single quote
// and no double quote; backslash escapes for the quote, backslash and
// control characters. Other bytes (UTF-8 included) are kept.
std::string python_string_repr(const std::string& s) {
  char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

void append_repr(const Node& node, std::string& out) {
  switch (node.kind()) {
    case Kind::kString:
    case Kind::kMissing: out += python_string_repr(node.as_string()); return;
    case Kind::kList:
      out += '[';
      for (std::size_t i = 0; i < node.size(); ++i) {
        if (i > 0) out += ", ";
        append_repr(node.at(i), out);
      }
      out += ']';
      return;
    case Kind::kMap:
      out += '{';
      for (std::size_t i = 0; i < node.size(); ++i) {
        if (i > 0) out += ", ";
        out += python_string_repr(node.keys()[i]);
        out += ": ";
        append_repr(node.at(i), out);
      }
      out += '}';
      return;
    default: out += interpolation_text(node); return;
  }
}

}  // namespace

std::string interpolation_text(const Node& value) {
  switch (value.kind()) {
    case Kind::kNull: return "None";
    case Kind::kBool: return value.as_bool() ? "True" : "False";
    case Kind::kInt: return std::to_string(value.as_int());
    case Kind::kFloat: return python_float_repr(value.as_float());
    case Kind::kString:
    case Kind::kMissing: return value.as_string();
    case Kind::kList:
    case Kind::kMap: {
      std::string out;
      append_repr(value, out);
      return out;
    }
  }
  return {};
}

}  // namespace kiln::config
