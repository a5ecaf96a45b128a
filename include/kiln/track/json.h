// Minimal JSON (RFC 8259) for kiln's own file headers: the safetensors header
// and checkpoint.json. Not a general-purpose JSON library.
//
// What it does, and why that is enough:
//   - Parsing is strict RFC 8259: no comments, no trailing commas, no NaN, no
//     leading zeros, strings must be valid UTF-8 without raw control
//     characters, \u escapes must pair surrogates correctly. Headers come from
//     files that may be corrupt or hostile, so anything else is an error
//     (JsonError with the byte offset) rather than a guess.
//   - Duplicate object keys are an error (a header naming a tensor twice is
//     ambiguous; serde_json rejects it for structs as well).
//   - Numbers keep their literal text, so 64-bit integers (file offsets)
//     round-trip exactly; as_uint64()/as_int64() convert only exact integers.
//   - Objects keep their members in document order, so writing what was
//     parsed reproduces the order (safetensors headers list tensors in file
//     order).
//   - Nesting deeper than JsonParseOptions::max_depth is an error, so a
//     crafted "[[[[..." cannot exhaust the stack.
//
// Thread safety: values are plain data; the functions are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/error.h"

namespace kiln::track {

// Malformed JSON. Callers add the file name; offset() is the byte offset of
// the problem within the parsed text.
class JsonError : public Error {
 public:
  JsonError(const std::string& message, std::size_t offset) : Error(message), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;  // null
  static JsonValue boolean(bool value);
  static JsonValue number(std::int64_t value);
  static JsonValue number(std::uint64_t value);
  static JsonValue number(int value) { return number(static_cast<std::int64_t>(value)); }
  // Shortest text that reads back as the same double; non-finite values
  // (not JSON) become the strings "nan", "inf", "-inf".
  static JsonValue number(double value);
  static JsonValue string(std::string value);
  static JsonValue array(std::vector<JsonValue> items = {});
  static JsonValue object();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  // "null", "a boolean", "a number", "a string", "an array", "an object":
  // for messages like "expected a string, found an array".
  const char* kind_name() const;

  bool as_bool() const { return boolean_; }  // false unless kBool
  // The string's value (kString) or the number's literal text (kNumber).
  const std::string& text() const { return text_; }
  // The value when it is a number written as an integer (no fraction or
  // exponent) that fits; nullopt otherwise.
  std::optional<std::uint64_t> as_uint64() const;
  std::optional<std::int64_t> as_int64() const;

  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }
  // The member named `key`, or nullptr.
  const JsonValue* find(std::string_view key) const;

  // Appends to an array.
  JsonValue& push_back(JsonValue value);
  // Adds a member to an object (replacing one with the same key in place).
  JsonValue& set(std::string key, JsonValue value);

 private:
  Kind kind_ = Kind::kNull;
  bool boolean_ = false;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;

  friend class JsonParser;
};

struct JsonParseOptions {
  // Arrays and objects nested deeper than this are an error.
  std::size_t max_depth = 64;
};

// Parses exactly one JSON value (surrounding whitespace allowed). Throws
// JsonError, e.g. "expected ',' or '}' after an object member, found 'x'".
JsonValue parse_json(std::string_view text, const JsonParseOptions& options = {});

// Serialises `value`. indent < 0: compact, no spaces (serde_json's
// to_string); indent >= 0: one member per line, indented that many spaces
// per level. Strings are escaped minimally (", \, control characters);
// non-ASCII UTF-8 is written as is.
std::string to_json(const JsonValue& value, int indent = -1);

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

}  // namespace kiln::track
