#include "kiln/track/json.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_set>

namespace kiln::track {

JsonValue JsonValue::boolean(bool value) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.boolean_ = value;
  return v;
}

JsonValue JsonValue::number(std::int64_t value) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.text_ = std::to_string(value);
  return v;
}

JsonValue JsonValue::number(double value) {
  if (!std::isfinite(value)) return string(std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
  std::array<char, 32> buffer;
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.text_.assign(buffer.data(), end);
  // "1e+20" and "3" are valid JSON; keep a float recognisable as one.
  if (v.text_.find_first_of(".eE") == std::string::npos) v.text_ += ".0";
  return v;
}

JsonValue JsonValue::number(std::uint64_t value) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.text_ = std::to_string(value);
  return v;
}

JsonValue JsonValue::string(std::string value) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(value);
  return v;
}

JsonValue JsonValue::array(std::vector<JsonValue> items) {
  JsonValue v;
  v.kind_ = Kind::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::object() {
  JsonValue v;
  v.kind_ = Kind::kObject;
  return v;
}

const char* JsonValue::kind_name() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "a boolean";
    case Kind::kNumber: return "a number";
    case Kind::kString: return "a string";
    case Kind::kArray: return "an array";
    case Kind::kObject: return "an object";
  }
  return "?";
}

std::optional<std::uint64_t> JsonValue::as_uint64() const {
  if (kind_ != Kind::kNumber || text_.empty() || text_[0] == '-') return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text_) {
    if (c < '0' || c > '9') return std::nullopt;  // fraction or exponent
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<std::int64_t> JsonValue::as_int64() const {
  if (kind_ != Kind::kNumber || text_.empty()) return std::nullopt;
  bool negative = text_[0] == '-';
  JsonValue magnitude = *this;
  if (negative) magnitude.text_ = text_.substr(1);
  auto value = magnitude.as_uint64();
  if (!value) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (*value > kMax + 1) return std::nullopt;
    return *value == kMax + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(*value);
  }
  if (*value > kMax) return std::nullopt;
  return static_cast<std::int64_t>(*value);
}

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const Member& member : members_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

JsonValue& JsonValue::push_back(JsonValue value) {
  items_.push_back(std::move(value));
  return items_.back();
}

JsonValue& JsonValue::set(std::string key, JsonValue value) {
  for (Member& member : members_) {
    if (member.first == key) return member.second = std::move(value);
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

// Recursive descent over the text; one function per grammar rule.
class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonParseOptions& options) : text_(text), options_(options) {}

  JsonValue parse_document() {
    skip_space();
    JsonValue value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("expected the end of the JSON text after the value, found " + found());
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw JsonError(message, pos_); }

  std::string found() const {
    if (pos_ >= text_.size()) return "the end of the text";
    auto c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  JsonValue parse_value(std::size_t depth) {
    if (pos_ >= text_.size()) fail("expected a JSON value, found the end of the text");
    switch (text_[pos_]) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return JsonValue::string(parse_string());
      case 't': return parse_literal("true", JsonValue::boolean(true));
      case 'f': return parse_literal("false", JsonValue::boolean(false));
      case 'n': return parse_literal("null", JsonValue());
      default:
        if (text_[pos_] == '-' || (text_[pos_] >= '0' && text_[pos_] <= '9')) return parse_number();
        fail("expected a JSON value, found " + found());
    }
  }

  JsonValue parse_literal(std::string_view word, JsonValue value) {
    if (text_.substr(pos_, word.size()) != word) fail("expected a JSON value, found " + found());
    pos_ += word.size();
    return value;
  }

  void check_depth(std::size_t depth) const {
    if (depth > options_.max_depth) {
      fail("arrays and objects are nested more than " + std::to_string(options_.max_depth) + " deep");
    }
  }

  JsonValue parse_object(std::size_t depth) {
    check_depth(depth);
    ++pos_;  // '{'
    JsonValue object = JsonValue::object();
    // A set, not find(): a header may name tens of thousands of tensors.
    std::unordered_set<std::string> keys;
    skip_space();
    if (consume('}')) return object;
    for (;;) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string key in an object, found " + found());
      std::size_t key_pos = pos_;
      std::string key = parse_string();
      if (!keys.insert(key).second) {
        pos_ = key_pos;
        fail("duplicate key " + json_quote(key) + " in an object");
      }
      skip_space();
      if (!consume(':')) fail("expected ':' after an object key, found " + found());
      skip_space();
      JsonValue value = parse_value(depth);
      object.members_.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (consume('}')) return object;
      if (!consume(',')) fail("expected ',' or '}' after an object member, found " + found());
    }
  }

  JsonValue parse_array(std::size_t depth) {
    check_depth(depth);
    ++pos_;  // '['
    JsonValue array = JsonValue::array();
    skip_space();
    if (consume(']')) return array;
    for (;;) {
      skip_space();
      array.items_.push_back(parse_value(depth));
      skip_space();
      if (consume(']')) return array;
      if (!consume(',')) fail("expected ',' or ']' after an array element, found " + found());
    }
  }

  JsonValue parse_number() {
    std::size_t start = pos_;
    consume('-');
    if (consume('0')) {
      if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') fail("a number cannot have leading zeros");
    } else if (!digits()) {
      fail("expected a digit in a number, found " + found());
    }
    if (consume('.') && !digits()) fail("expected a digit after '.' in a number, found " + found());
    if (consume('e') || consume('E')) {
      if (!consume('+')) consume('-');
      if (!digits()) fail("expected a digit in a number's exponent, found " + found());
    }
    JsonValue value;
    value.kind_ = JsonValue::Kind::kNumber;
    value.text_ = std::string(text_.substr(start, pos_ - start));
    return value;
  }

  bool digits() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  std::string parse_string() {
    ++pos_;  // '"'
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character " + found() + " inside a string (must be escaped)");
      if (c == '\\') {
        parse_escape(out);
      } else if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++pos_;
      } else {
        copy_utf8(out);
      }
    }
  }

  void parse_escape(std::string& out) {
    ++pos_;  // '\'
    if (pos_ >= text_.size()) fail("unterminated string");
    char c = text_[pos_++];
    switch (c) {
      case '"': out.push_back('"'); return;
      case '\\': out.push_back('\\'); return;
      case '/': out.push_back('/'); return;
      case 'b': out.push_back('\b'); return;
      case 'f': out.push_back('\f'); return;
      case 'n': out.push_back('\n'); return;
      case 'r': out.push_back('\r'); return;
      case 't': out.push_back('\t'); return;
      case 'u': break;
      default: --pos_; fail("invalid escape '\\" + std::string(1, c) + "' in a string");
    }
    std::uint32_t code = hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) fail("unpaired low surrogate in a \\u escape");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail("high surrogate in a \\u escape is not followed by a low one");
      pos_ += 2;
      std::uint32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate in a \\u escape is not followed by a low one");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, code);
  }

  std::uint32_t hex4() {
    std::uint32_t code = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      if (pos_ >= text_.size()) fail("expected 4 hex digits after \\u, found the end of the text");
      char c = text_[pos_];
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) fail("expected 4 hex digits after \\u, found " + found());
      code = code * 16 + static_cast<std::uint32_t>(digit);
    }
    return code;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  // Copies one multi-byte UTF-8 sequence, rejecting overlong forms,
  // surrogates and code points above U+10FFFF.
  void copy_utf8(std::string& out) {
    auto lead = static_cast<unsigned char>(text_[pos_]);
    int length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || lead > 0xF4 || pos_ + length > text_.size()) fail("invalid UTF-8 " + found() + " in a string");
    std::uint32_t code = lead & (0x7F >> length);
    for (int i = 1; i < length; ++i) {
      auto next = static_cast<unsigned char>(text_[pos_ + i]);
      if ((next & 0xC0) != 0x80) fail("invalid UTF-8 " + found() + " in a string");
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMin[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      fail("invalid UTF-8 " + found() + " in a string");
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
  }

  std::string_view text_;
  const JsonParseOptions& options_;
  std::size_t pos_ = 0;
};

JsonValue parse_json(std::string_view text, const JsonParseOptions& options) {
  return JsonParser(text, options).parse_document();
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

namespace {

void write_value(std::string& out, const JsonValue& value, int indent, int level) {
  auto newline = [&](int at) {
    if (indent < 0) return;
    out.push_back('\n');
    out.append(static_cast<std::size_t>(indent * at), ' ');
  };
  switch (value.kind()) {
    case JsonValue::Kind::kNull: out += "null"; return;
    case JsonValue::Kind::kBool: out += value.as_bool() ? "true" : "false"; return;
    case JsonValue::Kind::kNumber: out += value.text(); return;
    case JsonValue::Kind::kString: out += json_quote(value.text()); return;
    case JsonValue::Kind::kArray: {
      // Arrays of scalars (shapes, offsets) stay on one line: easier to read.
      bool flat = true;
      for (const JsonValue& item : value.items()) flat = flat && !item.is_array() && !item.is_object();
      out.push_back('[');
      for (std::size_t i = 0; i < value.items().size(); ++i) {
        if (i > 0) out += flat && indent >= 0 ? ", " : ",";
        if (!flat) newline(level + 1);
        write_value(out, value.items()[i], indent, level + 1);
      }
      if (!flat && !value.items().empty()) newline(level);
      out.push_back(']');
      return;
    }
    case JsonValue::Kind::kObject: {
      out.push_back('{');
      for (std::size_t i = 0; i < value.members().size(); ++i) {
        if (i > 0) out.push_back(',');
        newline(level + 1);
        out += json_quote(value.members()[i].first);
        out += indent >= 0 ? ": " : ":";
        write_value(out, value.members()[i].second, indent, level + 1);
      }
      if (!value.members().empty()) newline(level);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string to_json(const JsonValue& value, int indent) {
  std::string out;
  write_value(out, value, indent, 0);
  return out;
}

}  // namespace kiln::track
