// Tests for typed config schemas (kiln/config/schema.h).
//
// The conversion table in OmegaConfParity was produced by OmegaConf 2.2.2
// itself: for each input v and field type (int, float, bool, str) of a
// dataclass, OmegaConf.merge(OmegaConf.structured(C), {key: v}) and the
// resulting value, or an error (nullptr).
#include "kiln/config/schema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

Node yaml(std::string_view text) { return load_yaml(text, "test.yaml").root; }

// The diagnostics bind() throws, or none.
template <class T>
std::vector<Diagnostic> errors_of(const Schema<T>& schema, const Node& node, const KeyPath& at = {}) {
  try {
    schema.bind(node, at);
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  return {};
}

template <class T>
std::string what_of(const Schema<T>& schema, const Node& node, const KeyPath& at = {}) {
  try {
    schema.bind(node, at);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

struct OptimizerConfig {
  std::string name = "adamw";
  double lr = 1e-3;
  std::vector<double> betas{0.9, 0.999};
  std::int64_t warmup = 0;
  std::optional<double> clip;
  bool nesterov = false;
};

Schema<OptimizerConfig> optimizer_schema() {
  Schema<OptimizerConfig> s("optimizer", {.doc = "optimizer settings"});
  s.field("name", &OptimizerConfig::name).doc("which optimizer").choices({"adamw", "sgd"});
  s.field("lr", &OptimizerConfig::lr).doc("learning rate").range(0.0, 10.0).required();
  s.field("betas", &OptimizerConfig::betas).doc("Adam betas").list_merge(ListMerge::kReplace);
  s.field("warmup", &OptimizerConfig::warmup).doc("warmup steps").min(0);
  s.field("clip", &OptimizerConfig::clip).doc("max grad norm, null for none");
  s.field("nesterov", &OptimizerConfig::nesterov);
  return s;
}

// One field of each scalar type, for conversion tests.
struct Scalars {
  std::int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s;
};

Schema<Scalars> scalars_schema() {
  Schema<Scalars> s("scalars");
  s.field("i", &Scalars::i);
  s.field("f", &Scalars::f);
  s.field("b", &Scalars::b);
  s.field("s", &Scalars::s);
  return s;
}

Node one_key(const std::string& key, Node value) {
  Node map = Node::map();
  map.set(key, std::move(value));
  return map;
}

// ---------------------------------------------------------------------------
// Binding and defaults

TEST(SchemaBind, FillsEveryFieldFromYaml) {
  Node node = yaml(
      "name: sgd\n"
      "lr: 0.1\n"
      "betas: [0.8, 0.9]\n"
      "warmup: 100\n"
      "clip: 1.5\n"
      "nesterov: true\n");
  OptimizerConfig cfg = optimizer_schema().bind(node, {"optimizer"});
  EXPECT_EQ(cfg.name, "sgd");
  EXPECT_DOUBLE_EQ(cfg.lr, 0.1);
  EXPECT_EQ(cfg.betas, (std::vector<double>{0.8, 0.9}));
  EXPECT_EQ(cfg.warmup, 100);
  ASSERT_TRUE(cfg.clip.has_value());
  EXPECT_DOUBLE_EQ(*cfg.clip, 1.5);
  EXPECT_TRUE(cfg.nesterov);
}

TEST(SchemaBind, AbsentKeysKeepTheStructDefaults) {
  OptimizerConfig cfg = optimizer_schema().bind(yaml("lr: 0.5\n"));
  EXPECT_EQ(cfg.name, "adamw");
  EXPECT_EQ(cfg.betas, (std::vector<double>{0.9, 0.999}));
  EXPECT_EQ(cfg.warmup, 0);
  EXPECT_FALSE(cfg.clip.has_value());
  EXPECT_FALSE(cfg.nesterov);
}

TEST(SchemaBind, MissingValueOnAFieldWithADefaultKeepsTheDefault) {
  // As OmegaConf.merge(structured, {"name": "???"}) keeps the dataclass default.
  OptimizerConfig cfg = optimizer_schema().bind(yaml("lr: 0.5\nname: ???\n"));
  EXPECT_EQ(cfg.name, "adamw");
}

TEST(SchemaBind, BindAtSelectsTheSubtreeOfTheRoot) {
  Node root = yaml("optimizer:\n  lr: 0.25\nother: 1\n");
  OptimizerConfig cfg = optimizer_schema().bind_at(root, {"optimizer"});
  EXPECT_DOUBLE_EQ(cfg.lr, 0.25);
}

TEST(SchemaBind, BindAtWithAnAbsentSubtreeReportsRequiredFields) {
  Node root = yaml("other: 1\n");
  auto errors = [&] {
    try {
      optimizer_schema().bind_at(root, {"optimizer"});
    } catch (const ConfigError& e) {
      return e.diagnostics();
    }
    return std::vector<Diagnostic>{};
  }();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_NE(errors[0].message.find("missing mandatory value"), std::string::npos);
}

TEST(SchemaBind, BindIntoUsesTheCurrentContentsAsDefaults) {
  OptimizerConfig cfg;
  cfg.name = "sgd";
  cfg.warmup = 7;
  Diagnostics diags;
  EXPECT_TRUE(optimizer_schema().bind_into(yaml("lr: 0.5\n"), cfg, diags, "optimizer"));
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(cfg.name, "sgd");
  EXPECT_EQ(cfg.warmup, 7);
  EXPECT_DOUBLE_EQ(cfg.lr, 0.5);
}

TEST(SchemaBind, BindIntoReturnsFalseAndCollectsWithoutThrowing) {
  OptimizerConfig cfg;
  Diagnostics diags;
  EXPECT_FALSE(optimizer_schema().bind_into(yaml("lr: abc\nwarmup: x\n"), cfg, diags, "optimizer"));
  ASSERT_EQ(diags.items().size(), 2u);
  EXPECT_EQ(diags.items()[0].key, "optimizer.lr");
  EXPECT_EQ(diags.items()[1].key, "optimizer.warmup");
}

// ---------------------------------------------------------------------------
// Missing mandatory values

TEST(SchemaMissing, RequiredKeyAbsent) {
  Node node = yaml("name: sgd\n");
  auto errors = errors_of(optimizer_schema(), node, {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_EQ(errors[0].message, "missing mandatory value: the key is not set (expected a float)");
  EXPECT_EQ(errors[0].hint, "set it in a config file or on the command line: optimizer.lr=...");
  EXPECT_EQ(errors[0].source.str(), node.source().str());  // the map that lacks it
}

TEST(SchemaMissing, RequiredKeyHoldsMissingValue) {
  auto errors = errors_of(optimizer_schema(), yaml("name: sgd\nlr: ???\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_EQ(errors[0].message, "missing mandatory value: found ??? (expected a float)");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:2:5");
}

TEST(SchemaMissing, MissingListElementIsAnError) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 1\nbetas:\n  - 0.9\n  - ???\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.betas[1]");
  EXPECT_EQ(errors[0].message, "missing mandatory value: found ??? (expected a float)");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:4:5");
}

TEST(SchemaMissing, ErrorTextShowsSourceKeyAndMessage) {
  std::string what = what_of(optimizer_schema(), yaml("name: sgd\nlr: ???\n"), {"optimizer"});
  EXPECT_NE(what.find("test.yaml:2:5: error: optimizer.lr: missing mandatory value"), std::string::npos) << what;
}

// ---------------------------------------------------------------------------
// Conversions (OmegaConf 2.2 parity)

struct ParityCase {
  const char* key;
  Node input;
  const char* expected;  // nullptr: refused
};

std::string bound_text(const Scalars& v, const std::string& key) {
  if (key == "i") return std::to_string(v.i);
  if (key == "f") return schema_detail::python_float_text(v.f);
  if (key == "b") return v.b ? "true" : "false";
  return v.s;
}

TEST(SchemaConvert, OmegaConfParity) {
  const std::vector<ParityCase> cases = {
      {"i", Node::integer(100), "100"},
      {"i", Node::integer(-5), "-5"},
      {"i", Node::integer(0), "0"},
      {"i", Node::floating(3.5), nullptr},
      {"i", Node::floating(3.0), nullptr},
      {"i", Node::floating(0.001), nullptr},
      {"i", Node::floating(1e+20), nullptr},
      {"i", Node::floating(1e-05), nullptr},
      {"i", Node::floating(100000.0), nullptr},
      {"i", Node::floating(1e+16), nullptr},
      {"i", Node::boolean(true), nullptr},
      {"i", Node::boolean(false), nullptr},
      {"i", Node::null(), nullptr},
      {"i", Node::string("100"), "100"},
      {"i", Node::string("+3"), "3"},
      {"i", Node::string(" 7 "), "7"},
      {"i", Node::string("1_000"), "1000"},
      {"i", Node::string("007"), "7"},
      {"i", Node::string("0x10"), nullptr},
      {"i", Node::string("1e3"), nullptr},
      {"i", Node::string("10.0"), nullptr},
      {"i", Node::string("abc"), nullptr},
      {"i", Node::string(""), nullptr},
      {"i", Node::string("1__0"), nullptr},
      {"i", Node::string("_1"), nullptr},
      {"i", Node::string("1e-3"), nullptr},
      {"i", Node::string("1E3"), nullptr},
      {"i", Node::string(".5"), nullptr},
      {"i", Node::string("5."), nullptr},
      {"i", Node::string("inf"), nullptr},
      {"i", Node::string("-Infinity"), nullptr},
      {"i", Node::string("nan"), nullptr},
      {"i", Node::string(".inf"), nullptr},
      {"i", Node::string("1_000.5"), nullptr},
      {"i", Node::string("1e1_0"), nullptr},
      {"i", Node::string("true"), nullptr},
      {"i", Node::string("True"), nullptr},
      {"i", Node::string("yes"), nullptr},
      {"i", Node::string("Y"), nullptr},
      {"i", Node::string("n"), nullptr},
      {"i", Node::string("on"), nullptr},
      {"i", Node::string("OFF"), nullptr},
      {"i", Node::string("2"), "2"},
      {"i", Node::string("0"), "0"},
      {"i", Node::string(" 1"), "1"},
      {"i", Node::string("tRuE"), nullptr},
      {"i", Node::string("maybe"), nullptr},
      {"f", Node::integer(100), "100.0"},
      {"f", Node::integer(-5), "-5.0"},
      {"f", Node::integer(0), "0.0"},
      {"f", Node::floating(3.5), "3.5"},
      {"f", Node::floating(3.0), "3.0"},
      {"f", Node::floating(0.001), "0.001"},
      {"f", Node::floating(1e+20), "1e+20"},
      {"f", Node::floating(1e-05), "1e-05"},
      {"f", Node::floating(100000.0), "100000.0"},
      {"f", Node::floating(1e+16), "1e+16"},
      {"f", Node::boolean(true), nullptr},
      {"f", Node::boolean(false), nullptr},
      {"f", Node::null(), nullptr},
      {"f", Node::string("100"), "100.0"},
      {"f", Node::string("+3"), "3.0"},
      {"f", Node::string(" 7 "), "7.0"},
      {"f", Node::string("1_000"), "1000.0"},
      {"f", Node::string("007"), "7.0"},
      {"f", Node::string("0x10"), nullptr},
      {"f", Node::string("1e3"), "1000.0"},
      {"f", Node::string("10.0"), "10.0"},
      {"f", Node::string("abc"), nullptr},
      {"f", Node::string(""), nullptr},
      {"f", Node::string("1__0"), nullptr},
      {"f", Node::string("_1"), nullptr},
      {"f", Node::string("1e-3"), "0.001"},
      {"f", Node::string("1E3"), "1000.0"},
      {"f", Node::string(".5"), "0.5"},
      {"f", Node::string("5."), "5.0"},
      {"f", Node::string("inf"), "inf"},
      {"f", Node::string("-Infinity"), "-inf"},
      {"f", Node::string("nan"), "nan"},
      {"f", Node::string(".inf"), nullptr},
      {"f", Node::string("1_000.5"), "1000.5"},
      {"f", Node::string("1e1_0"), "10000000000.0"},
      {"f", Node::string("true"), nullptr},
      {"f", Node::string("True"), nullptr},
      {"f", Node::string("yes"), nullptr},
      {"f", Node::string("Y"), nullptr},
      {"f", Node::string("n"), nullptr},
      {"f", Node::string("on"), nullptr},
      {"f", Node::string("OFF"), nullptr},
      {"f", Node::string("2"), "2.0"},
      {"f", Node::string("0"), "0.0"},
      {"f", Node::string(" 1"), "1.0"},
      {"f", Node::string("tRuE"), nullptr},
      {"f", Node::string("maybe"), nullptr},
      {"b", Node::integer(100), "true"},
      {"b", Node::integer(-5), "true"},
      {"b", Node::integer(0), "false"},
      {"b", Node::floating(3.5), nullptr},
      {"b", Node::floating(3.0), nullptr},
      {"b", Node::floating(0.001), nullptr},
      {"b", Node::floating(1e+20), nullptr},
      {"b", Node::floating(1e-05), nullptr},
      {"b", Node::floating(100000.0), nullptr},
      {"b", Node::floating(1e+16), nullptr},
      {"b", Node::boolean(true), "true"},
      {"b", Node::boolean(false), "false"},
      {"b", Node::null(), nullptr},
      {"b", Node::string("100"), "true"},
      {"b", Node::string("+3"), "true"},
      {"b", Node::string(" 7 "), "true"},
      {"b", Node::string("1_000"), "true"},
      {"b", Node::string("007"), "true"},
      {"b", Node::string("0x10"), nullptr},
      {"b", Node::string("1e3"), nullptr},
      {"b", Node::string("10.0"), nullptr},
      {"b", Node::string("abc"), nullptr},
      {"b", Node::string(""), nullptr},
      {"b", Node::string("1__0"), nullptr},
      {"b", Node::string("_1"), nullptr},
      {"b", Node::string("1e-3"), nullptr},
      {"b", Node::string("1E3"), nullptr},
      {"b", Node::string(".5"), nullptr},
      {"b", Node::string("5."), nullptr},
      {"b", Node::string("inf"), nullptr},
      {"b", Node::string("-Infinity"), nullptr},
      {"b", Node::string("nan"), nullptr},
      {"b", Node::string(".inf"), nullptr},
      {"b", Node::string("1_000.5"), nullptr},
      {"b", Node::string("1e1_0"), nullptr},
      {"b", Node::string("true"), "true"},
      {"b", Node::string("True"), "true"},
      {"b", Node::string("yes"), "true"},
      {"b", Node::string("Y"), "true"},
      {"b", Node::string("n"), "false"},
      {"b", Node::string("on"), "true"},
      {"b", Node::string("OFF"), "false"},
      {"b", Node::string("2"), "true"},
      {"b", Node::string("0"), "false"},
      {"b", Node::string(" 1"), "true"},
      {"b", Node::string("tRuE"), "true"},
      {"b", Node::string("maybe"), nullptr},
      {"s", Node::integer(100), "100"},
      {"s", Node::integer(-5), "-5"},
      {"s", Node::integer(0), "0"},
      {"s", Node::floating(3.5), "3.5"},
      {"s", Node::floating(3.0), "3.0"},
      {"s", Node::floating(0.001), "0.001"},
      {"s", Node::floating(1e+20), "1e+20"},
      {"s", Node::floating(1e-05), "1e-05"},
      {"s", Node::floating(100000.0), "100000.0"},
      {"s", Node::floating(1e+16), "1e+16"},
      {"s", Node::boolean(true), nullptr},   // OmegaConf gives "True"; refused on purpose
      {"s", Node::boolean(false), nullptr},  // OmegaConf gives "False"; refused on purpose
      {"s", Node::null(), nullptr},
      {"s", Node::string("100"), "100"},
      {"s", Node::string("+3"), "+3"},
      {"s", Node::string(" 7 "), " 7 "},
      {"s", Node::string("1_000"), "1_000"},
      {"s", Node::string("007"), "007"},
      {"s", Node::string("0x10"), "0x10"},
      {"s", Node::string("1e3"), "1e3"},
      {"s", Node::string("10.0"), "10.0"},
      {"s", Node::string("abc"), "abc"},
      {"s", Node::string(""), ""},
      {"s", Node::string("1__0"), "1__0"},
      {"s", Node::string("_1"), "_1"},
      {"s", Node::string("1e-3"), "1e-3"},
      {"s", Node::string("1E3"), "1E3"},
      {"s", Node::string(".5"), ".5"},
      {"s", Node::string("5."), "5."},
      {"s", Node::string("inf"), "inf"},
      {"s", Node::string("-Infinity"), "-Infinity"},
      {"s", Node::string("nan"), "nan"},
      {"s", Node::string(".inf"), ".inf"},
      {"s", Node::string("1_000.5"), "1_000.5"},
      {"s", Node::string("1e1_0"), "1e1_0"},
      {"s", Node::string("true"), "true"},
      {"s", Node::string("True"), "True"},
      {"s", Node::string("yes"), "yes"},
      {"s", Node::string("Y"), "Y"},
      {"s", Node::string("n"), "n"},
      {"s", Node::string("on"), "on"},
      {"s", Node::string("OFF"), "OFF"},
      {"s", Node::string("2"), "2"},
      {"s", Node::string("0"), "0"},
      {"s", Node::string(" 1"), " 1"},
      {"s", Node::string("tRuE"), "tRuE"},
      {"s", Node::string("maybe"), "maybe"},
  };
  auto schema = scalars_schema();
  for (const auto& c : cases) {
    std::string label = std::string(c.key) + " <- " + schema_detail::found_text(c.input);
    Node node = one_key(c.key, c.input);
    if (c.expected == nullptr) {
      auto errors = errors_of(schema, node);
      ASSERT_EQ(errors.size(), 1u) << label;
      EXPECT_EQ(errors[0].key, c.key) << label;
    } else {
      Scalars bound;
      try {
        bound = schema.bind(node);
      } catch (const ConfigError& e) {
        ADD_FAILURE() << label << ": " << e.what();
        continue;
      }
      EXPECT_EQ(bound_text(bound, c.key), c.expected) << label;
    }
  }
}

TEST(SchemaConvert, IntRefusesFloatWithMessage) {
  auto errors = errors_of(scalars_schema(), yaml("i: 3.5\n"), {"cfg"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "cfg.i");
  EXPECT_EQ(errors[0].message, "expected an int, found float 3.5");
  EXPECT_EQ(errors[0].hint, "");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:1:4");
}

TEST(SchemaConvert, IntRefusesWholeFloatWithHint) {
  auto errors = errors_of(scalars_schema(), yaml("i: 3.0\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected an int, found float 3.0");
  EXPECT_EQ(errors[0].hint, "write it without a decimal point: 3");
}

TEST(SchemaConvert, IntRefusesBoolAndNull) {
  auto errors = errors_of(scalars_schema(), yaml("i: true\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected an int, found bool true");
  errors = errors_of(scalars_schema(), yaml("i: null\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected an int, found null");
}

TEST(SchemaConvert, IntAcceptsQuotedDecimalString) {
  EXPECT_EQ(scalars_schema().bind(yaml("i: '100'\n")).i, 100);
  EXPECT_EQ(scalars_schema().bind(yaml("i: '-9223372036854775808'\n")).i, INT64_MIN);
}

TEST(SchemaConvert, FloatAcceptsIntAndExponentString) {
  EXPECT_DOUBLE_EQ(scalars_schema().bind(yaml("f: 5\n")).f, 5.0);
  EXPECT_DOUBLE_EQ(scalars_schema().bind(yaml("f: '1e-3'\n")).f, 1e-3);
  EXPECT_TRUE(std::isinf(scalars_schema().bind(yaml("f: '1e400'\n")).f));  // Python: float('1e400') == inf
  EXPECT_TRUE(std::isinf(scalars_schema().bind(yaml("f: .inf\n")).f));     // YAML's own spelling, unquoted
}

TEST(SchemaConvert, FloatRefusesStringWithMessageAndSource) {
  Node node = yaml("f: abc\n");
  auto errors = errors_of(scalars_schema(), node, {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.f");
  EXPECT_EQ(errors[0].message, "expected a float, found string 'abc'");
  EXPECT_EQ(errors[0].str(), "test.yaml:1:4: error: optimizer.f: expected a float, found string 'abc'");
}

TEST(SchemaConvert, BoolRefusesUnknownWordWithHint) {
  auto errors = errors_of(scalars_schema(), yaml("b: maybe\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a bool, found string 'maybe'");
  EXPECT_NE(errors[0].hint.find("yes/no"), std::string::npos);
}

TEST(SchemaConvert, BoolAcceptsIntegersAsOmegaConfDoes) {
  EXPECT_TRUE(scalars_schema().bind(yaml("b: 2\n")).b);
  EXPECT_FALSE(scalars_schema().bind(yaml("b: 0\n")).b);
  EXPECT_TRUE(scalars_schema().bind(yaml("b: '99999999999999999999999'\n")).b);
}

TEST(SchemaConvert, StringRefusesBoolWithQuotingHint) {
  auto errors = errors_of(scalars_schema(), yaml("s: no\n"), {"data"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "data.s");
  EXPECT_EQ(errors[0].message, "expected a string, found bool false");
  EXPECT_NE(errors[0].hint.find("quote the value"), std::string::npos);
  EXPECT_EQ(scalars_schema().bind(yaml("s: 'no'\n")).s, "no");
}

TEST(SchemaConvert, StringTakesNumbersAsPythonPrintsThem) {
  EXPECT_EQ(scalars_schema().bind(yaml("s: 100\n")).s, "100");
  EXPECT_EQ(scalars_schema().bind(yaml("s: 1e-5\n")).s, "1e-05");
  EXPECT_EQ(scalars_schema().bind(yaml("s: 1.10\n")).s, "1.1");
}

TEST(SchemaConvert, StringRefusesNullAndContainers) {
  auto errors = errors_of(scalars_schema(), yaml("s: null\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a string, found null");
  errors = errors_of(scalars_schema(), yaml("s: [1]\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a string, found a list");
  errors = errors_of(scalars_schema(), yaml("s: {a: 1}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a string, found a map");
}

TEST(SchemaConvert, UnresolvedInterpolationGetsAHint) {
  auto errors = errors_of(scalars_schema(), yaml("f: ${lr}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a float, found string '${lr}'");
  EXPECT_NE(errors[0].hint.find("interpolations are resolved before binding"), std::string::npos);
}

TEST(SchemaConvert, PythonFloatTextMatchesRepr) {
  // Right-hand sides are Python 3's repr() of the same doubles.
  using schema_detail::python_float_text;
  EXPECT_EQ(python_float_text(0.1), "0.1");
  EXPECT_EQ(python_float_text(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(python_float_text(-0.0), "-0.0");
  EXPECT_EQ(python_float_text(1e-4), "0.0001");
  EXPECT_EQ(python_float_text(2.5e-5), "2.5e-05");
  EXPECT_EQ(python_float_text(1.5e300), "1.5e+300");
  EXPECT_EQ(python_float_text(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(python_float_text(5e-324), "5e-324");
  EXPECT_EQ(python_float_text(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_text(1e16), "1e+16");
  EXPECT_EQ(python_float_text(12345.678), "12345.678");
  EXPECT_EQ(python_float_text(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(python_float_text(std::nan("")), "nan");
}

// ---------------------------------------------------------------------------
// Integer types are range-checked against the C++ type

struct Integers {
  std::int8_t i8 = 0;
  std::uint8_t u8 = 0;
  std::int16_t i16 = 0;
  std::uint16_t u16 = 0;
  int i32 = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  std::size_t size = 0;
};

Schema<Integers> integers_schema() {
  Schema<Integers> s("ints");
  s.field("i8", &Integers::i8);
  s.field("u8", &Integers::u8);
  s.field("i16", &Integers::i16);
  s.field("u16", &Integers::u16);
  s.field("i32", &Integers::i32);
  s.field("u32", &Integers::u32);
  s.field("u64", &Integers::u64);
  s.field("size", &Integers::size);
  return s;
}

TEST(SchemaIntegers, BoundsOfEachTypeAreAccepted) {
  Integers v =
      integers_schema().bind(yaml("i8: -128\nu8: 255\ni16: 32767\nu16: 65535\ni32: -2147483648\nu32: 4294967295\n"
                                  "u64: '18446744073709551615'\nsize: 3\n"));
  EXPECT_EQ(v.i8, -128);
  EXPECT_EQ(v.u8, 255);
  EXPECT_EQ(v.i16, 32767);
  EXPECT_EQ(v.u16, 65535);
  EXPECT_EQ(v.i32, INT32_MIN);
  EXPECT_EQ(v.u32, UINT32_MAX);
  EXPECT_EQ(v.u64, UINT64_MAX);
  EXPECT_EQ(v.size, 3u);
}

TEST(SchemaIntegers, OutOfTypeRangeNamesTheType) {
  auto errors = errors_of(integers_schema(), yaml("i8: 300\nu32: -1\nu64: '99999999999999999999'\n"), {"ints"});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].key, "ints.i8");
  EXPECT_EQ(errors[0].message, "value 300 is out of range for int8: expected -128 <= x <= 127");
  EXPECT_EQ(errors[1].key, "ints.u32");
  EXPECT_EQ(errors[1].message, "value -1 is out of range for uint32: expected 0 <= x <= 4294967295");
  EXPECT_EQ(errors[2].message,
            "value 99999999999999999999 is out of range for uint64: expected 0 <= x <= 18446744073709551615");
}

TEST(SchemaIntegers, Int64OverflowInAStringIsOutOfRange) {
  auto errors = errors_of(scalars_schema(), yaml("i: '9223372036854775808'\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message,
            "value 9223372036854775808 is out of range for int64: expected -9223372036854775808 <= x <= "
            "9223372036854775807");
}

TEST(SchemaIntegers, HugeUnsignedDefaultIsShownAsText) {
  struct Big {
    std::uint64_t v = UINT64_MAX;
  };
  Schema<Big> s("big");
  s.field("v", &Big::v);
  EXPECT_EQ(s.describe()[0].default_value, "18446744073709551615");
  EXPECT_EQ(s.bind(s.to_node(Big{})).v, UINT64_MAX);
}

struct Floats {
  float f32 = 0.1f;
};

TEST(SchemaFloats, Float32OverflowIsOutOfRange) {
  Schema<Floats> s("floats");
  s.field("f32", &Floats::f32);
  auto errors = errors_of(s, yaml("f32: 1e40\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message,
            "value 1e+40 is out of range for float32: expected -3.4028235e+38 <= x <= 3.4028235e+38");
  EXPECT_FLOAT_EQ(s.bind(yaml("f32: 0.25\n")).f32, 0.25f);
  EXPECT_EQ(s.describe()[0].default_value, "0.1");  // shortest text of the float, not 0.10000000149011612
}

// ---------------------------------------------------------------------------
// Optional, list and map fields

TEST(SchemaOptional, NullGivesNulloptAndValuesConvert) {
  EXPECT_FALSE(optimizer_schema().bind(yaml("lr: 1\nclip: null\n")).clip.has_value());
  auto cfg = optimizer_schema().bind(yaml("lr: 1\nclip: '2.5'\n"));
  ASSERT_TRUE(cfg.clip.has_value());
  EXPECT_DOUBLE_EQ(*cfg.clip, 2.5);
}

TEST(SchemaOptional, WrongTypeInsideOptionalIsReported) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 1\nclip: [1]\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.clip");
  EXPECT_EQ(errors[0].message, "expected a float or null, found a list");
}

TEST(SchemaOptional, NullIsRefusedForANonOptionalField) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: null\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a float, found null");
}

TEST(SchemaOptional, RequiredOptionalAcceptsNullButNotMissing) {
  struct Cfg {
    std::optional<int> seed;
  };
  Schema<Cfg> s("cfg");
  s.field("seed", &Cfg::seed).required();
  EXPECT_FALSE(s.bind(yaml("seed: null\n")).seed.has_value());
  auto errors = errors_of(s, yaml("{}\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "missing mandatory value: the key is not set (expected an int or null)");
}

TEST(SchemaOptional, NullableElementsAndStructsSayOrNull) {
  struct Cfg {
    std::vector<std::optional<int>> slots;
  };
  Schema<Cfg> s("cfg");
  s.field("slots", &Cfg::slots);
  Cfg v = s.bind(yaml("slots: [1, null]\n"));
  EXPECT_EQ(v.slots, (std::vector<std::optional<int>>{1, std::nullopt}));
  auto errors = errors_of(s, yaml("slots: [x]\n"), {"cfg"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "cfg.slots[0]");
  EXPECT_EQ(errors[0].message, "expected an int or null, found string 'x'");
  EXPECT_EQ(s.describe()[0].type, "list[optional[int]]");
}

TEST(SchemaList, ElementsConvertOneByOne) {
  struct Cfg {
    std::vector<int> sizes;
  };
  Schema<Cfg> s("cfg");
  s.field("sizes", &Cfg::sizes);
  EXPECT_EQ(s.bind(yaml("sizes: [1, '2', 3]\n")).sizes, (std::vector<int>{1, 2, 3}));
}

TEST(SchemaList, ElementErrorsCarryTheIndexInTheKey) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 1\nbetas: [0.9, abc, true]\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].key, "optimizer.betas[1]");
  EXPECT_EQ(errors[0].message, "expected a float, found string 'abc'");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:2:14");
  EXPECT_EQ(errors[1].key, "optimizer.betas[2]");
  EXPECT_EQ(errors[1].message, "expected a float, found bool true");
}

TEST(SchemaList, ScalarOrNullInsteadOfAListIsRefused) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 1\nbetas: 0.9\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.betas");
  EXPECT_EQ(errors[0].message, "expected a list, found float 0.9");
  errors = errors_of(optimizer_schema(), yaml("lr: 1\nbetas: null\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a list, found null");
}

TEST(SchemaList, AListReplacesTheDefault) {
  EXPECT_EQ(optimizer_schema().bind(yaml("lr: 1\nbetas: [0.5]\n")).betas, (std::vector<double>{0.5}));
  EXPECT_TRUE(optimizer_schema().bind(yaml("lr: 1\nbetas: []\n")).betas.empty());
}

TEST(SchemaList, NestedListsAndVectorOfBool) {
  struct Cfg {
    std::vector<std::vector<int>> grid;
    std::vector<bool> flags;
  };
  Schema<Cfg> s("cfg");
  s.field("grid", &Cfg::grid);
  s.field("flags", &Cfg::flags);
  Cfg v = s.bind(yaml("grid: [[1, 2], [3]]\nflags: [true, 'no', 1]\n"));
  EXPECT_EQ(v.grid, (std::vector<std::vector<int>>{{1, 2}, {3}}));
  EXPECT_EQ(v.flags, (std::vector<bool>{true, false, true}));
  auto errors = errors_of(s, yaml("grid: [[1, x]]\n"), {"cfg"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "cfg.grid[0][1]");
  EXPECT_EQ(s.describe()[0].type, "list[list[int]]");
}

struct Weighted {
  std::map<std::string, double> weights{{"ce", 1.0}};
  std::map<std::string, std::vector<int>> groups;
};

Schema<Weighted> weighted_schema() {
  Schema<Weighted> s("loss");
  s.field("weights", &Weighted::weights).min(0.0);
  s.field("groups", &Weighted::groups);
  return s;
}

TEST(SchemaMap, EntriesMergeIntoTheDefaultEntries) {
  // OmegaConf: merging {b: 2} into a Dict field defaulting to {a: 1} gives {a: 1, b: 2}.
  Weighted v = weighted_schema().bind(yaml("weights: {mse: '0.5'}\ngroups: {a: [1, 2]}\n"));
  EXPECT_EQ(v.weights, (std::map<std::string, double>{{"ce", 1.0}, {"mse", 0.5}}));
  EXPECT_EQ(v.groups.at("a"), (std::vector<int>{1, 2}));
}

TEST(SchemaMap, EntryErrorsCarryTheEntryKey) {
  auto errors = errors_of(weighted_schema(), yaml("weights: {mse: x, l1: -1}\ngroups: {a: [1, q]}\n"), {"loss"});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].key, "loss.weights.mse");
  EXPECT_EQ(errors[0].message, "expected a float, found string 'x'");
  EXPECT_EQ(errors[1].key, "loss.weights.l1");
  EXPECT_EQ(errors[1].message, "value -1 is out of range: expected x >= 0");
  EXPECT_EQ(errors[2].key, "loss.groups.a[1]");
}

TEST(SchemaMap, ListInsteadOfAMapIsRefused) {
  auto errors = errors_of(weighted_schema(), yaml("weights: [1]\n"), {"loss"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a map, found a list");
}

// ---------------------------------------------------------------------------
// Nested structs

struct EncoderConfig {
  int dim = 4;
  std::string act = "relu";
  int depth = 0;
};

struct ModelConfig {
  EncoderConfig encoder{8, "relu", 1};
  std::optional<EncoderConfig> decoder;
  std::vector<EncoderConfig> heads;
  std::map<std::string, EncoderConfig> towers;
  Node kwargs = Node::map();
};

Schema<EncoderConfig> encoder_schema(bool depth_required = false) {
  Schema<EncoderConfig> s("encoder", {.doc = "an encoder"});
  s.field("dim", &EncoderConfig::dim).doc("width").min(1);
  s.field("act", &EncoderConfig::act).choices({"relu", "gelu"});
  auto depth = s.field("depth", &EncoderConfig::depth);
  if (depth_required) depth.required();
  return s;
}

Schema<ModelConfig> model_schema(bool depth_required = false) {
  Schema<ModelConfig> s("model");
  s.nested("encoder", &ModelConfig::encoder, encoder_schema(depth_required)).doc("the encoder");
  s.nested("decoder", &ModelConfig::decoder, encoder_schema());
  s.nested("heads", &ModelConfig::heads, encoder_schema());
  s.nested("towers", &ModelConfig::towers, encoder_schema());
  s.field("kwargs", &ModelConfig::kwargs);
  return s;
}

TEST(SchemaNested, MergesIntoTheParentsDefault) {
  // The parent's default encoder has dim 8; EncoderConfig{} would give 4.
  ModelConfig v = model_schema().bind(yaml("encoder: {act: gelu}\n"));
  EXPECT_EQ(v.encoder.dim, 8);
  EXPECT_EQ(v.encoder.act, "gelu");
  EXPECT_EQ(v.encoder.depth, 1);
}

TEST(SchemaNested, OptionalStructStartsFromItsOwnDefaults) {
  ModelConfig v = model_schema().bind(yaml("decoder: {depth: 3}\n"));
  ASSERT_TRUE(v.decoder.has_value());
  EXPECT_EQ(v.decoder->dim, 4);
  EXPECT_EQ(v.decoder->depth, 3);
  EXPECT_FALSE(model_schema().bind(yaml("decoder: null\n")).decoder.has_value());
}

TEST(SchemaNested, ListAndMapOfStructs) {
  ModelConfig v = model_schema().bind(yaml("heads: [{dim: 2}, {act: gelu}]\ntowers: {left: {dim: 16}}\n"));
  ASSERT_EQ(v.heads.size(), 2u);
  EXPECT_EQ(v.heads[0].dim, 2);
  EXPECT_EQ(v.heads[1].act, "gelu");
  EXPECT_EQ(v.towers.at("left").dim, 16);
}

TEST(SchemaNested, ErrorsInsideUseTheFullPath) {
  auto errors = errors_of(
      model_schema(), yaml("encoder: {dim: x}\nheads: [{dim: 2}, {act: tanh}]\ntowers: {l: {dim: 0}}\n"), {"model"});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].key, "model.encoder.dim");
  EXPECT_EQ(errors[0].message, "expected an int, found string 'x'");
  EXPECT_EQ(errors[1].key, "model.heads[1].act");
  EXPECT_EQ(errors[1].message, "value 'tanh' is not allowed: expected one of: relu, gelu");
  EXPECT_EQ(errors[2].key, "model.towers.l.dim");
  EXPECT_EQ(errors[2].message, "value 0 is out of range: expected x >= 1");
}

TEST(SchemaNested, NullOrScalarForAStructIsRefused) {
  auto errors = errors_of(model_schema(), yaml("encoder: null\nheads: [3]\n"), {"model"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].key, "model.encoder");
  EXPECT_EQ(errors[0].message, "expected a map (encoder), found null");
  EXPECT_EQ(errors[1].key, "model.heads[0]");
  EXPECT_EQ(errors[1].message, "expected a map (encoder), found int 3");
}

TEST(SchemaNested, OptionalStructErrorsSayOrNullOnlyForTheStructItself) {
  auto errors = errors_of(model_schema(), yaml("decoder: 3\n"), {"model"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "expected a map (encoder) or null, found int 3");
  errors = errors_of(model_schema(), yaml("decoder: {dim: x}\n"), {"model"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.decoder.dim");
  EXPECT_EQ(errors[0].message, "expected an int, found string 'x'");
}

TEST(SchemaNested, MultiSegmentBindPath) {
  auto errors = errors_of(encoder_schema(), yaml("dim: x\n"), {"model", "encoder"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder.dim");
}

TEST(SchemaNested, RequiredFieldInsideAnAbsentStructIsReported) {
  auto errors = errors_of(model_schema(true), yaml("{}\n"), {"model"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder.depth");
  EXPECT_EQ(errors[0].message, "missing mandatory value: the key is not set (expected an int)");
}

TEST(SchemaNested, UnknownKeyInsideSuggestsTheSibling) {
  auto errors = errors_of(model_schema(), yaml("encoder: {dmi: 3}\n"), {"model"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "model.encoder.dmi");
  EXPECT_EQ(errors[0].message, "unknown key 'dmi' (not a field of encoder; expected one of: dim, act, depth)");
  EXPECT_EQ(errors[0].hint, "did you mean 'model.encoder.dim'?");
}

TEST(SchemaNested, RecursiveStructThroughAList) {
  struct Tree {
    int value = 0;
    std::vector<Tree> children;
  };
  Schema<Tree> s("tree");
  s.field("value", &Tree::value);
  s.nested("children", &Tree::children, s);
  Tree t = s.bind(yaml("value: 1\nchildren: [{value: 2, children: [{value: 3}]}]\n"));
  ASSERT_EQ(t.children.size(), 1u);
  ASSERT_EQ(t.children[0].children.size(), 1u);
  EXPECT_EQ(t.children[0].children[0].value, 3);
  auto errors = errors_of(s, yaml("children: [{children: [{valu: 3}]}]\n"), {"tree"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "tree.children[0].children[0].valu");
}

// ---------------------------------------------------------------------------
// Raw Node fields and enums

TEST(SchemaNode, RawNodeTakesAnythingAsWritten) {
  ModelConfig v = model_schema().bind(yaml("kwargs:\n  hidden: [1, 2]\n  act: ${x}\n"));
  ASSERT_TRUE(v.kwargs.is_map());
  EXPECT_EQ(v.kwargs.find("hidden")->size(), 2u);
  EXPECT_EQ(v.kwargs.find("act")->as_string(), "${x}");
  EXPECT_TRUE(model_schema().bind(yaml("kwargs: 3\n")).kwargs == Node::integer(3));
  EXPECT_TRUE(model_schema().bind(yaml("kwargs: ???\n")).kwargs.is_map());  // ??? keeps the default
}

enum class Mode { kTrain, kEval };

struct RunConfig {
  Mode mode = Mode::kTrain;
  std::vector<Mode> phases;
};

Schema<RunConfig> run_schema() {
  Schema<RunConfig> s("run");
  s.field("mode", &RunConfig::mode, {{"train", Mode::kTrain}, {"eval", Mode::kEval}}).doc("what to run");
  s.field("phases", &RunConfig::phases, {{"train", Mode::kTrain}, {"eval", Mode::kEval}});
  return s;
}

TEST(SchemaEnum, NamesMapToValues) {
  RunConfig v = run_schema().bind(yaml("mode: eval\nphases: [train, eval]\n"));
  EXPECT_EQ(v.mode, Mode::kEval);
  EXPECT_EQ(v.phases, (std::vector<Mode>{Mode::kTrain, Mode::kEval}));
}

TEST(SchemaEnum, UnknownNameSuggestsAndWrongTypeIsRefused) {
  auto errors = errors_of(run_schema(), yaml("mode: evl\nphases: [1]\n"), {"run"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].key, "run.mode");
  EXPECT_EQ(errors[0].message, "value 'evl' is not allowed: expected one of: train, eval");
  EXPECT_EQ(errors[0].hint, "did you mean 'eval'?");
  EXPECT_EQ(errors[1].key, "run.phases[0]");
  EXPECT_EQ(errors[1].message, "expected a string (one of: train, eval), found int 1");
}

TEST(SchemaEnum, HelpShowsNamesAsChoices) {
  auto rows = run_schema().describe();
  EXPECT_EQ(rows[0].type, "enum");
  EXPECT_EQ(rows[0].default_value, "train");
  EXPECT_EQ(rows[0].constraints, "one of: train, eval");
  EXPECT_EQ(rows[1].type, "list[enum]");
}

// ---------------------------------------------------------------------------
// Unknown keys

TEST(SchemaUnknownKey, TypoIsReportedWithDidYouMean) {
  Node node = yaml("lr: 1\nlrr: 2\n");
  auto errors = errors_of(optimizer_schema(), node, {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lrr");
  EXPECT_EQ(errors[0].message,
            "unknown key 'lrr' (not a field of optimizer; expected one of: name, lr, betas, warmup, clip, nesterov)");
  EXPECT_EQ(errors[0].hint, "did you mean 'optimizer.lr'?");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:2:6");
}

TEST(SchemaUnknownKey, FarFromEveryFieldHasNoHint) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 1\ncompletely_different: 2\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "completely_different");
  EXPECT_EQ(errors[0].hint, "");
}

TEST(SchemaUnknownKey, OpenSchemaAcceptsUnknownKeys) {
  auto s = optimizer_schema();
  EXPECT_FALSE(s.allows_unknown_keys());
  s.allow_unknown_keys();
  EXPECT_TRUE(s.allows_unknown_keys());
  EXPECT_DOUBLE_EQ(s.bind(yaml("lr: 1\nmomentum: 0.9\n")).lr, 1.0);
}

TEST(SchemaUnknownKey, OpenViaOptions) {
  struct Cfg {
    std::string target;
  };
  SchemaOptions options;
  options.allow_unknown_keys = true;
  Schema<Cfg> s("factory", options);
  s.field("_target_", &Cfg::target);
  EXPECT_EQ(s.bind(yaml("_target_: a.B\nhidden: 3\n")).target, "a.B");
}

TEST(SchemaUnknownKey, ExtraKeysAreCollectedInOrder) {
  struct Cfg {
    std::string target;
    Node kwargs = yaml("hidden: 1\n");
  };
  Schema<Cfg> s("factory");
  s.field("_target_", &Cfg::target);
  s.extra_keys(&Cfg::kwargs);
  Cfg v = s.bind(yaml("depth: 2\n_target_: a.B\nhidden: 3\n"));
  EXPECT_EQ(v.target, "a.B");
  ASSERT_TRUE(v.kwargs.is_map());
  EXPECT_EQ(v.kwargs.keys(), (std::vector<std::string>{"hidden", "depth"}));
  EXPECT_EQ(v.kwargs.find("hidden")->as_int(), 3);
  Node back = s.to_node(v);
  EXPECT_EQ(back.keys(), (std::vector<std::string>{"_target_", "hidden", "depth"}));
}

// ---------------------------------------------------------------------------
// Ranges and choices

TEST(SchemaRange, OutOfRangeNamesTheRange) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 20.0\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.lr");
  EXPECT_EQ(errors[0].message, "value 20 is out of range: expected 0 <= x <= 10");
  EXPECT_EQ(errors[0].source.str(), "test.yaml:1:5");
}

TEST(SchemaRange, BoundsAreInclusiveAndNanIsOutside) {
  EXPECT_DOUBLE_EQ(optimizer_schema().bind(yaml("lr: 10\n")).lr, 10.0);
  EXPECT_DOUBLE_EQ(optimizer_schema().bind(yaml("lr: 0\n")).lr, 0.0);
  auto errors = errors_of(optimizer_schema(), yaml("lr: .nan\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "value nan is out of range: expected 0 <= x <= 10");
}

TEST(SchemaRange, MinOnlyAndMaxOnly) {
  struct Cfg {
    int a = 0;
    double b = 0;
  };
  Schema<Cfg> s("cfg");
  s.field("a", &Cfg::a).min(0);
  s.field("b", &Cfg::b).max(0.5);
  auto errors = errors_of(s, yaml("a: -1\nb: 0.75\n"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message, "value -1 is out of range: expected x >= 0");
  EXPECT_EQ(errors[1].message, "value 0.75 is out of range: expected x <= 0.5");
  auto rows = s.describe();
  EXPECT_EQ(rows[0].constraints, "x >= 0");
  EXPECT_EQ(rows[1].constraints, "x <= 0.5");
}

TEST(SchemaRange, AppliesToEachElementAndSkipsNull) {
  struct Cfg {
    std::vector<double> probs;
    std::optional<int> limit;
  };
  Schema<Cfg> s("cfg");
  s.field("probs", &Cfg::probs).range(0.0, 1.0);
  s.field("limit", &Cfg::limit).min(1);
  EXPECT_FALSE(s.bind(yaml("limit: null\n")).limit.has_value());
  auto errors = errors_of(s, yaml("probs: [0.5, 1.5]\nlimit: 0\n"), {"cfg"});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].key, "cfg.probs[1]");
  EXPECT_EQ(errors[0].message, "value 1.5 is out of range: expected 0 <= x <= 1");
  EXPECT_EQ(errors[1].key, "cfg.limit");
}

TEST(SchemaChoices, NotAmongChoicesListsThemAndSuggests) {
  auto errors = errors_of(optimizer_schema(), yaml("lr: 1\nname: adam\n"), {"optimizer"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "optimizer.name");
  EXPECT_EQ(errors[0].message, "value 'adam' is not allowed: expected one of: adamw, sgd");
  EXPECT_EQ(errors[0].hint, "did you mean 'adamw'?");
}

TEST(SchemaChoices, NumericChoicesHaveNoSpellingHint) {
  struct Cfg {
    int bits = 16;
  };
  Schema<Cfg> s("cfg");
  s.field("bits", &Cfg::bits).choices({8, 16, 32});
  auto errors = errors_of(s, yaml("bits: 12\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "value 12 is not allowed: expected one of: 8, 16, 32");
  EXPECT_EQ(errors[0].hint, "");
  EXPECT_EQ(s.bind(yaml("bits: '32'\n")).bits, 32);
}

TEST(SchemaChoices, RangeAndChoicesTogetherInHelp) {
  struct Cfg {
    int bits = 16;
  };
  Schema<Cfg> s("cfg");
  s.field("bits", &Cfg::bits).range(1, 64).choices({8, 16});
  EXPECT_EQ(s.describe()[0].constraints, "1 <= x <= 64; one of: 8, 16");
}

// ---------------------------------------------------------------------------
// All problems are collected

TEST(SchemaCollect, EveryProblemIsReportedInFileOrder) {
  Node node = yaml(
      "name: adam\n"
      "lr: abc\n"
      "betas: [0.9, x]\n"
      "warmup: -3\n"
      "nesterv: true\n");
  try {
    optimizer_schema().bind(node, {"optimizer"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const auto& d = e.diagnostics();
    ASSERT_EQ(d.size(), 5u);
    EXPECT_EQ(d[0].key, "optimizer.name");
    EXPECT_EQ(d[1].key, "optimizer.lr");
    EXPECT_EQ(d[2].key, "optimizer.betas[1]");
    EXPECT_EQ(d[3].key, "optimizer.warmup");
    EXPECT_EQ(d[4].key, "optimizer.nesterv");
    EXPECT_EQ(d[4].hint, "did you mean 'optimizer.nesterov'?");
    std::string what = e.what();
    EXPECT_NE(what.find("test.yaml:2:5: error: optimizer.lr: expected a float, found string 'abc'"), std::string::npos);
    EXPECT_NE(what.find("5 config errors"), std::string::npos);
    EXPECT_EQ(e.exit_code(), ExitCode::kConfig);
  }
}

TEST(SchemaCollect, NonMapSubtreeIsOneError) {
  for (const char* text : {"optimizer: 3\n", "optimizer: null\n", "optimizer: [1]\n", "optimizer: ???\n"}) {
    Node root = yaml(text);
    try {
      optimizer_schema().bind_at(root, {"optimizer"});
      ADD_FAILURE() << text;
    } catch (const ConfigError& e) {
      ASSERT_EQ(e.diagnostics().size(), 1u) << text;
      EXPECT_EQ(e.diagnostics()[0].key, "optimizer");
      EXPECT_NE(e.diagnostics()[0].message.find("a map (optimizer)"), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------------------
// List merge modes

TEST(SchemaListMerge, ModesOfFieldsAndNestedStructs) {
  struct Inner {
    std::vector<int> tags;
  };
  struct Outer {
    std::vector<std::string> callbacks;
    std::optional<std::vector<int>> extra;
    Inner inner;
    std::optional<Inner> maybe;
    std::vector<Inner> many;
  };
  Schema<Inner> inner("inner");
  inner.field("tags", &Inner::tags).list_merge(ListMerge::kPrepend);
  Schema<Outer> s("outer");
  s.field("callbacks", &Outer::callbacks).list_merge(ListMerge::kAppend);
  s.field("extra", &Outer::extra).list_merge(ListMerge::kByIndex);
  s.nested("inner", &Outer::inner, inner);
  s.nested("maybe", &Outer::maybe, inner);
  s.nested("many", &Outer::many, inner);
  using Modes = std::vector<std::pair<std::string, ListMerge>>;
  EXPECT_EQ(s.list_merge_modes(), (Modes{{"callbacks", ListMerge::kAppend},
                                         {"extra", ListMerge::kByIndex},
                                         {"inner.tags", ListMerge::kPrepend},
                                         {"maybe.tags", ListMerge::kPrepend}}));
  EXPECT_EQ(s.list_merge_modes({"trainer"})[0],
            (std::pair<std::string, ListMerge>{"trainer.callbacks", ListMerge::kAppend}));
}

TEST(SchemaListMerge, DeclaredReplaceIsListedAndBindStillReplaces) {
  auto modes = optimizer_schema().list_merge_modes({"optimizer"});
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0].first, "optimizer.betas");
  EXPECT_EQ(modes[0].second, ListMerge::kReplace);
}

// ---------------------------------------------------------------------------
// Help

TEST(SchemaDescribe, RowsForEveryFieldWithTypesDefaultsAndConstraints) {
  auto rows = optimizer_schema().describe(nullptr, {"optimizer"});
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].key, "optimizer.name");
  EXPECT_EQ(rows[0].type, "string");
  EXPECT_EQ(rows[0].default_value, "adamw");
  EXPECT_EQ(rows[0].doc, "which optimizer");
  EXPECT_EQ(rows[0].constraints, "one of: adamw, sgd");
  EXPECT_FALSE(rows[0].required);
  EXPECT_FALSE(rows[0].current_value.has_value());
  EXPECT_EQ(rows[1].key, "optimizer.lr");
  EXPECT_EQ(rows[1].type, "float");
  EXPECT_EQ(rows[1].default_value, "???");
  EXPECT_EQ(rows[1].constraints, "0 <= x <= 10");
  EXPECT_TRUE(rows[1].required);
  EXPECT_EQ(rows[2].type, "list[float]");
  EXPECT_EQ(rows[2].default_value, "[0.9, 0.999]");
  EXPECT_EQ(rows[3].type, "int");
  EXPECT_EQ(rows[3].default_value, "0");
  EXPECT_EQ(rows[4].type, "optional[float]");
  EXPECT_EQ(rows[4].default_value, "null");
  EXPECT_EQ(rows[5].type, "bool");
  EXPECT_EQ(rows[5].default_value, "false");
  EXPECT_EQ(rows[5].doc, "");
}

TEST(SchemaDescribe, CurrentValuesComeFromTheGivenSubtree) {
  Node current = yaml("name: sgd\nbetas: [0.5, 0.6]\nlr: '1e-3'\n");
  auto rows = optimizer_schema().describe(&current);
  EXPECT_EQ(rows[0].key, "name");
  EXPECT_EQ(rows[0].current_value, "sgd");
  EXPECT_EQ(rows[1].current_value, "\"1e-3\"");  // as written: a string, quoted so it reads back as one
  EXPECT_EQ(rows[2].current_value, "[0.5, 0.6]");
  EXPECT_FALSE(rows[3].current_value.has_value());
}

TEST(SchemaDescribe, NestedStructsAreListedFieldByField) {
  Node current = yaml("encoder: {dim: 32}\n");
  auto rows = model_schema().describe(&current, {"model"});
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].key, "model.encoder.dim");
  EXPECT_EQ(rows[0].default_value, "8");  // the parent's default, not EncoderConfig{}
  EXPECT_EQ(rows[0].current_value, "32");
  EXPECT_EQ(rows[0].doc, "width");
  EXPECT_EQ(rows[1].key, "model.encoder.act");
  EXPECT_EQ(rows[2].key, "model.encoder.depth");
  EXPECT_EQ(rows[3].key, "model.decoder");
  EXPECT_EQ(rows[3].type, "optional[encoder]");
  EXPECT_EQ(rows[4].type, "list[encoder]");
  EXPECT_EQ(rows[4].default_value, "[]");
  EXPECT_EQ(rows[5].type, "map[string, encoder]");
  EXPECT_EQ(rows[5].default_value, "{}");
  EXPECT_EQ(rows[6].type, "any");
}

TEST(SchemaDescribe, ContainerDefaultsAreFlowYaml) {
  struct Cfg {
    std::map<std::string, std::vector<std::string>> groups{{"a", {"x,y", "z"}}};
    std::vector<EncoderConfig> heads{EncoderConfig{}};
  };
  Schema<Cfg> s("cfg");
  s.field("groups", &Cfg::groups);
  s.nested("heads", &Cfg::heads, encoder_schema());
  auto rows = s.describe();
  EXPECT_EQ(rows[0].type, "map[string, list[string]]");
  EXPECT_EQ(rows[0].default_value, "{a: [\"x,y\", z]}");
  EXPECT_EQ(rows[1].default_value, "[{dim: 4, act: relu, depth: 0}]");
}

struct Small {
  int a = 1;
  std::string name = "x";
};

Schema<Small> small_schema() {
  Schema<Small> s("small");
  s.field("a", &Small::a).doc("alpha").range(0, 5).required();
  s.field("name", &Small::name).choices({"x", "y"});
  return s;
}

TEST(SchemaHelp, FormatsAnAlignedTable) {
  EXPECT_EQ(format_help(small_schema().describe()),
            "KEY   TYPE    DEFAULT  DESCRIPTION\n"
            "a     int     ???      alpha; 0 <= x <= 5; required\n"
            "name  string  x        one of: x, y\n");
}

TEST(SchemaHelp, CurrentColumnAppearsWhenValuesAreGiven) {
  Node current = yaml("a: 3\n");
  EXPECT_EQ(format_help(small_schema().describe(&current)),
            "KEY   TYPE    DEFAULT  CURRENT  DESCRIPTION\n"
            "a     int     ???      3        alpha; 0 <= x <= 5; required\n"
            "name  string  x                 one of: x, y\n");
}

TEST(SchemaHelp, LongCellsAreCutAndEmptyInputGivesNothing) {
  FieldHelp row;
  row.key = "k";
  row.type = "int";
  row.default_value = std::string(100, 'v');
  std::string table = format_help({row});
  EXPECT_NE(table.find(std::string(37, 'v') + "..."), std::string::npos);
  EXPECT_EQ(table.find(std::string(38, 'v')), std::string::npos);
  EXPECT_EQ(format_help({}), "");
}

// ---------------------------------------------------------------------------
// to_node

TEST(SchemaToNode, RoundTripsThroughBind) {
  OptimizerConfig v;
  v.name = "sgd";
  v.clip = 0.5;
  v.betas = {0.1};
  Node node = optimizer_schema().to_node(v);
  EXPECT_EQ(node.keys(), (std::vector<std::string>{"name", "lr", "betas", "warmup", "clip", "nesterov"}));
  OptimizerConfig back = optimizer_schema().bind(node);
  EXPECT_EQ(back.name, "sgd");
  EXPECT_EQ(back.clip, 0.5);
  EXPECT_EQ(back.betas, v.betas);
  EXPECT_EQ(to_yaml(model_schema().to_node(ModelConfig{})),
            "encoder:\n  dim: 8\n  act: relu\n  depth: 1\ndecoder: null\nheads: []\ntowers: {}\nkwargs: {}\n");
}

// ---------------------------------------------------------------------------
// Type-erased schemas and the registry

TEST(AnySchema, ValidatesDescribesAndRecoversTheType) {
  AnySchema any = optimizer_schema();
  EXPECT_EQ(any.name(), "optimizer");
  EXPECT_EQ(any.doc(), "optimizer settings");
  Diagnostics diags;
  EXPECT_FALSE(any.validate(yaml("lr: x\n"), diags, "optimizer"));
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].key, "optimizer.lr");
  EXPECT_TRUE(any.validate(yaml("lr: 1\n"), diags));
  EXPECT_EQ(any.describe(nullptr, {"opt"})[0].key, "opt.name");
  EXPECT_EQ(any.list_merge_modes().size(), 1u);
  ASSERT_NE(any.target<OptimizerConfig>(), nullptr);
  EXPECT_DOUBLE_EQ(any.target<OptimizerConfig>()->bind(yaml("lr: 2\n")).lr, 2.0);
  EXPECT_EQ(any.target<Small>(), nullptr);
}

TEST(SchemaBinding, ValidatesTheSubtreeAtItsPrefix) {
  SchemaBinding binding{"model.encoder", encoder_schema(true)};
  Node root = yaml("model:\n  encoder:\n    dim: 0\n");
  Diagnostics diags;
  EXPECT_FALSE(binding.validate(root, diags));
  ASSERT_EQ(diags.items().size(), 2u);
  EXPECT_EQ(diags.items()[0].key, "model.encoder.dim");
  EXPECT_EQ(diags.items()[1].key, "model.encoder.depth");
  EXPECT_THROW(binding.validate(root), ConfigError);
  EXPECT_NO_THROW(binding.validate(yaml("model:\n  encoder:\n    depth: 2\n")));
}

TEST(SchemaBinding, AbsentSubtreeReportsRequiredKeysWithFullPaths) {
  SchemaBinding binding{"optimizer", optimizer_schema()};
  Diagnostics diags;
  EXPECT_FALSE(binding.validate(yaml("trainer: {}\n"), diags));
  ASSERT_EQ(diags.items().size(), 1u);
  EXPECT_EQ(diags.items()[0].key, "optimizer.lr");
  auto rows = binding.describe(nullptr);
  EXPECT_EQ(rows[1].key, "optimizer.lr");
  EXPECT_EQ(binding.list_merge_modes()[0].first, "optimizer.betas");
}

TEST(SchemaRegistry, ValidatesEverySchemaAndCollectsAllProblems) {
  SchemaRegistry registry;
  EXPECT_TRUE(registry.add("optimizer", optimizer_schema()));
  EXPECT_TRUE(registry.add("model", model_schema()));
  Node root = yaml("optimizer:\n  lr: 99\nmodel:\n  encodr: {}\n");
  try {
    registry.validate(root);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);
    // Bindings run in prefix order: model, then optimizer.
    EXPECT_EQ(e.diagnostics()[0].key, "model.encodr");
    EXPECT_EQ(e.diagnostics()[0].hint, "did you mean 'model.encoder'?");
    EXPECT_EQ(e.diagnostics()[1].key, "optimizer.lr");
  }
  EXPECT_NO_THROW(registry.validate(yaml("optimizer:\n  lr: 1\n")));
}

TEST(SchemaRegistry, AddReplacesFindRemoveAndSortedOrder) {
  SchemaRegistry registry;
  EXPECT_TRUE(registry.add("trainer", small_schema()));
  EXPECT_TRUE(registry.add("data", small_schema()));
  EXPECT_FALSE(registry.add("trainer", optimizer_schema()));
  ASSERT_EQ(registry.bindings().size(), 2u);
  EXPECT_EQ(registry.bindings()[0].key_prefix, "data");
  EXPECT_EQ(registry.bindings()[1].key_prefix, "trainer");
  ASSERT_NE(registry.find("trainer"), nullptr);
  EXPECT_EQ(registry.find("trainer")->schema.name(), "optimizer");
  EXPECT_EQ(registry.find("nope"), nullptr);
  EXPECT_TRUE(registry.remove("data"));
  EXPECT_FALSE(registry.remove("data"));
  EXPECT_EQ(registry.bindings().size(), 1u);
  registry.clear();
  EXPECT_TRUE(registry.bindings().empty());
}

TEST(SchemaRegistry, MergeModesAndDescribeUseFullKeys) {
  SchemaRegistry registry;
  registry.add("optimizer", optimizer_schema());
  registry.add("model", model_schema());
  auto modes = registry.list_merge_modes();
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0].first, "optimizer.betas");
  auto rows = registry.describe();
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(rows[0].key, "model.encoder.dim");
  EXPECT_EQ(rows[7].key, "optimizer.name");
}

TEST(SchemaRegistry, HelpHasOneTitledSectionPerSchema) {
  SchemaRegistry registry;
  registry.add("optimizer", optimizer_schema());
  registry.add("extra", small_schema());
  Node root = yaml("optimizer: {lr: 0.5}\n");
  std::string help = registry.help(&root);
  EXPECT_EQ(help.find("extra (small)\nKEY"), 0u) << help;
  EXPECT_NE(help.find("\n\noptimizer: optimizer settings\nKEY"), std::string::npos) << help;
  EXPECT_NE(help.find("optimizer.lr  "), std::string::npos) << help;
  EXPECT_NE(help.find("CURRENT"), std::string::npos) << help;
}

TEST(JobSchemas, GlobalRegistryAcceptsRegistrations) {
  const std::string prefix = "schema_test_only";
  EXPECT_TRUE(register_job_schema(prefix, small_schema()));
  bool found = false;
  for (const auto& b : job_schemas()) found = found || b.key_prefix == prefix;
  EXPECT_TRUE(found);
  EXPECT_EQ(&job_schemas(), &job_schema_registry().bindings());
  EXPECT_TRUE(job_schema_registry().remove(prefix));
}

// ---------------------------------------------------------------------------
// Robustness: arbitrary trees give ConfigError or a value, never anything else

Node random_node(std::mt19937& rng, int depth) {
  static const std::vector<std::string> kKeys = {"name",    "lr",      "betas", "warmup", "clip",   "nesterov",
                                                 "encoder", "decoder", "heads", "towers", "kwargs", "dim",
                                                 "act",     "depth",   "i8",    "u64",    "x",      ""};
  static const std::vector<std::string> kStrings = {"",      "???",  "abc",  "1",    "-1",
                                                    "1e999", "nan",  "true", "${a}", "99999999999999999999999",
                                                    "sgd",   "relu", " 3 ",  "_"};
  int kind = static_cast<int>(rng() % (depth > 2 ? 6 : 8));
  switch (kind) {
    case 0: return Node::null();
    case 1: return Node::boolean(rng() % 2 == 0);
    case 2: {
      const std::int64_t ints[] = {0, 1, -1, 300, INT64_MIN, INT64_MAX, 4294967296};
      return Node::integer(ints[rng() % 7]);
    }
    case 3: {
      const double floats[] = {0.5, -2.0, 1e300, std::nan(""), -std::numeric_limits<double>::infinity(), 3.0};
      return Node::floating(floats[rng() % 6]);
    }
    case 4:
    case 5: return Node::string(kStrings[rng() % kStrings.size()]);
    case 6: {
      Node list = Node::list();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) list.push_back(random_node(rng, depth + 1));
      return list;
    }
    default: {
      Node map = Node::map();
      for (int i = static_cast<int>(rng() % 5); i > 0; --i)
        map.set(kKeys[rng() % kKeys.size()], random_node(rng, depth + 1));
      return map;
    }
  }
}

TEST(SchemaRobustness, RandomTreesNeverEscapeAsAnythingButConfigError) {
  std::mt19937 rng(20240611);
  auto optimizer = optimizer_schema();
  auto model = model_schema(true);
  auto ints = integers_schema();
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    Node node = random_node(rng, 0);
    for (int which = 0; which < 3; ++which) {
      try {
        if (which == 0) optimizer.bind(node, {"o"});
        if (which == 1) model.bind(node, {"m"});
        if (which == 2) ints.bind(node);
      } catch (const ConfigError& e) {
        ++errors;
        for (const auto& d : e.diagnostics()) ASSERT_FALSE(d.message.empty());
      }
    }
    // Help over arbitrary current values must not throw either.
    EXPECT_FALSE(format_help(model.describe(&node)).empty());
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace kiln::config
