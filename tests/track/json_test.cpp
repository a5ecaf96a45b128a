#include "kiln/track/json.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace kiln::track {
namespace {

// Expects parse_json(text) to fail with a message containing `fragment` at `offset`.
void expect_json_error(const std::string& text, const std::string& fragment, std::size_t offset) {
  try {
    parse_json(text);
    ADD_FAILURE() << "no error for " << text;
  } catch (const JsonError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << text << " -> " << e.what();
    EXPECT_EQ(e.offset(), offset) << text << " -> " << e.what();
  }
}

TEST(JsonTest, ParsesEveryKind) {
  JsonValue v = parse_json(R"( {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}} )");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.members().size(), 2u);
  const JsonValue& a = *v.find("a");
  ASSERT_EQ(a.items().size(), 5u);
  EXPECT_EQ(a.items()[0].as_uint64(), 1u);
  EXPECT_EQ(a.items()[1].text(), "-2.5e3");
  EXPECT_EQ(a.items()[1].as_int64(), std::nullopt);
  EXPECT_TRUE(a.items()[2].as_bool());
  EXPECT_EQ(a.items()[3].kind(), JsonValue::Kind::kBool);
  EXPECT_TRUE(a.items()[4].is_null());
  EXPECT_EQ(v.find("b")->find("c")->text(), "d");
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonTest, ObjectsKeepDocumentOrder) {
  JsonValue v = parse_json(R"({"z":1,"a":2,"m":3})");
  EXPECT_EQ(v.members()[0].first, "z");
  EXPECT_EQ(v.members()[1].first, "a");
  EXPECT_EQ(v.members()[2].first, "m");
  EXPECT_EQ(to_json(v), R"({"z":1,"a":2,"m":3})");
}

TEST(JsonTest, SixtyFourBitIntegersAreExact) {
  JsonValue v = parse_json("[18446744073709551615, 18446744073709551616, -9223372036854775808, 9223372036854775808]");
  EXPECT_EQ(v.items()[0].as_uint64(), 18446744073709551615ull);
  EXPECT_EQ(v.items()[1].as_uint64(), std::nullopt);  // overflows
  EXPECT_EQ(v.items()[2].as_int64(), INT64_MIN);
  EXPECT_EQ(v.items()[2].as_uint64(), std::nullopt);  // negative
  EXPECT_EQ(v.items()[3].as_int64(), std::nullopt);
  EXPECT_EQ(to_json(v), "[18446744073709551615,18446744073709551616,-9223372036854775808,9223372036854775808]");
}

TEST(JsonTest, FractionsAndExponentsAreNotIntegers) {
  EXPECT_EQ(parse_json("1.0").as_uint64(), std::nullopt);
  EXPECT_EQ(parse_json("1e2").as_uint64(), std::nullopt);
  EXPECT_EQ(parse_json("0").as_uint64(), 0u);
}

TEST(JsonTest, StringEscapesAndUnicode) {
  JsonValue v = parse_json(R"("q\" b\\ s\/ \b\f\n\r\t \u00e9 \ud83d\ude00 é")");
  EXPECT_EQ(v.text(), "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80 \xc3\xa9");
}

TEST(JsonTest, QuoteEscapesMinimally) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01/é"), "\"a\\\"b\\\\c\\n\\u0001/é\"");
  EXPECT_EQ(parse_json(json_quote("a\"b\\c\n\x01/é")).text(), "a\"b\\c\n\x01/é");
}

TEST(JsonTest, CompactOutputMatchesSerdeJson) {
  JsonValue tensor = JsonValue::object();
  tensor.set("dtype", JsonValue::string("F32"));
  tensor.set("shape", JsonValue::array({JsonValue::number(1), JsonValue::number(2)}));
  JsonValue root = JsonValue::object();
  root.set("w", tensor);
  EXPECT_EQ(to_json(root), R"({"w":{"dtype":"F32","shape":[1,2]}})");
  EXPECT_EQ(to_json(JsonValue::object()), "{}");
  EXPECT_EQ(to_json(JsonValue::array()), "[]");
}

TEST(JsonTest, IndentedOutputKeepsScalarArraysOnOneLine) {
  JsonValue root = JsonValue::object();
  root.set("n", JsonValue::number(std::uint64_t{3}));
  root.set("shape", JsonValue::array({JsonValue::number(1), JsonValue::number(2)}));
  JsonValue parts = JsonValue::array();
  parts.push_back(JsonValue::object()).set("x", JsonValue::boolean(true));
  root.set("parts", parts);
  EXPECT_EQ(to_json(root, 2),
            "{\n  \"n\": 3,\n  \"shape\": [1, 2],\n  \"parts\": [\n    {\n      \"x\": true\n    }\n  ]\n}");
  EXPECT_EQ(to_json(parse_json(to_json(root, 2))), to_json(root));
}

TEST(JsonTest, SetReplacesAnExistingKey) {
  JsonValue v = JsonValue::object();
  v.set("a", JsonValue::number(1));
  v.set("b", JsonValue::number(2));
  v.set("a", JsonValue::number(3));
  EXPECT_EQ(to_json(v), R"({"a":3,"b":2})");
}

TEST(JsonTest, SyntaxErrorsSayWhatAndWhere) {
  expect_json_error("", "expected a JSON value, found the end of the text", 0);
  expect_json_error("{\"a\":1,}", "expected a string key in an object, found '}'", 7);
  expect_json_error("{\"a\" 1}", "expected ':' after an object key, found '1'", 5);
  expect_json_error("{\"a\":1 \"b\":2}", "expected ',' or '}' after an object member, found '\"'", 7);
  expect_json_error("[1 2]", "expected ',' or ']' after an array element, found '2'", 3);
  expect_json_error("{} x", "expected the end of the JSON text after the value, found 'x'", 3);
  expect_json_error("tru", "expected a JSON value, found 't'", 0);
  expect_json_error("NaN", "expected a JSON value, found 'N'", 0);
  expect_json_error("[01]", "leading zeros", 2);
  expect_json_error("[1.]", "expected a digit after '.'", 3);
  expect_json_error("[1e]", "exponent", 3);
  expect_json_error("[-]", "expected a digit in a number", 2);
  expect_json_error("\"abc", "unterminated string", 4);
  expect_json_error("\"a\x01\"", "control character byte 0x01 inside a string", 2);
  expect_json_error("\"\\x\"", "invalid escape '\\x'", 2);
  expect_json_error("\"\\u12g4\"", "expected 4 hex digits after \\u, found 'g'", 5);
}

TEST(JsonTest, DuplicateKeysAreAnError) { expect_json_error(R"({"w":1,"w":2})", "duplicate key \"w\"", 7); }

TEST(JsonTest, InvalidUtf8AndSurrogatesAreErrors) {
  expect_json_error("\"\xff\"", "invalid UTF-8 byte 0xff", 1);
  expect_json_error("\"\xc0\xaf\"", "invalid UTF-8", 1);      // overlong '/'
  expect_json_error("\"\xed\xa0\x80\"", "invalid UTF-8", 1);  // UTF-8-encoded surrogate
  expect_json_error("\"\xe2\x82\"", "invalid UTF-8", 1);      // truncated sequence
  expect_json_error(R"("\udc00")", "unpaired low surrogate", 7);
  expect_json_error(R"("\ud83d x")", "not followed by a low one", 7);
}

TEST(JsonTest, DeepNestingIsRefused) {
  std::string deep(100, '[');
  expect_json_error(deep, "nested more than 64 deep", 64);
  JsonParseOptions options;
  options.max_depth = 200;
  EXPECT_THROW(parse_json(deep, options), JsonError);  // unterminated, but no longer too deep
  EXPECT_NO_THROW(parse_json(std::string(64, '[') + std::string(64, ']')));
}

}  // namespace
}  // namespace kiln::track

namespace kiln::track {
namespace {

TEST(JsonTest, DoublesWriteTheShortestTextThatReadsBackExactly) {
  EXPECT_EQ(to_json(JsonValue::number(0.1)), "0.1");
  EXPECT_EQ(to_json(JsonValue::number(3.0)), "3.0");
  EXPECT_EQ(to_json(JsonValue::number(1e300)), "1e+300");
  EXPECT_EQ(std::stod(to_json(JsonValue::number(0.9136000000000001))), 0.9136000000000001);
  EXPECT_EQ(parse_json(to_json(JsonValue::number(2.5))).text(), "2.5");
}

TEST(JsonTest, NonFiniteDoublesBecomeStrings) {
  EXPECT_EQ(to_json(JsonValue::number(std::numeric_limits<double>::quiet_NaN())), "\"nan\"");
  EXPECT_EQ(to_json(JsonValue::number(std::numeric_limits<double>::infinity())), "\"inf\"");
  EXPECT_EQ(to_json(JsonValue::number(-std::numeric_limits<double>::infinity())), "\"-inf\"");
}

}  // namespace
}  // namespace kiln::track
