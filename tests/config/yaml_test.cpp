#include "kiln/config/yaml.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kiln/config/error.h"

namespace kiln::config {
namespace {

Node load(const std::string& text) { return load_yaml(text, "test.yaml").root; }

TEST(YamlLoad, TypesPlainScalarsLikeOmegaConf) {
  Node n = load(
      "i: 42\nneg: -7\nunderscore: 1_000\nhex: 0x1F\noctal: 017\nbinary: 0b101\n"
      "f: 1.5\nexp: 1e-4\nexp2: 1.0e+3\ndot: .5\ntrail: 1.\ninf: .inf\nninf: -.inf\nnan: .nan\n"
      "yes: yes\noff: Off\nt: True\nnull1: ~\nnull2: null\nempty:\ns: hello world\n"
      "minus_dot: -.5\nnot_bool: tRue\ny: y\nbig: 99999999999999999999\n");
  EXPECT_EQ(n.find("i")->as_int(), 42);
  EXPECT_EQ(n.find("neg")->as_int(), -7);
  EXPECT_EQ(n.find("underscore")->as_int(), 1000);
  EXPECT_EQ(n.find("hex")->as_int(), 31);
  EXPECT_EQ(n.find("octal")->as_int(), 15);
  EXPECT_EQ(n.find("binary")->as_int(), 5);
  EXPECT_DOUBLE_EQ(n.find("f")->as_float(), 1.5);
  EXPECT_DOUBLE_EQ(n.find("exp")->as_float(), 1e-4);
  EXPECT_DOUBLE_EQ(n.find("exp2")->as_float(), 1000.0);
  EXPECT_DOUBLE_EQ(n.find("dot")->as_float(), 0.5);
  EXPECT_DOUBLE_EQ(n.find("trail")->as_float(), 1.0);
  EXPECT_TRUE(std::isinf(n.find("inf")->as_float()));
  EXPECT_LT(n.find("ninf")->as_float(), 0);
  EXPECT_TRUE(std::isnan(n.find("nan")->as_float()));
  EXPECT_TRUE(n.find("yes")->as_bool());
  EXPECT_FALSE(n.find("off")->as_bool());
  EXPECT_TRUE(n.find("t")->as_bool());
  EXPECT_TRUE(n.find("null1")->is_null());
  EXPECT_TRUE(n.find("null2")->is_null());
  EXPECT_TRUE(n.find("empty")->is_null());
  EXPECT_EQ(n.find("s")->as_string(), "hello world");
  // PyYAML + OmegaConf read these as strings; so does kiln.
  EXPECT_EQ(n.find("minus_dot")->as_string(), "-.5");
  EXPECT_EQ(n.find("not_bool")->as_string(), "tRue");
  EXPECT_EQ(n.find("y")->as_string(), "y");
  // Too large for int64: kept as text rather than wrapped.
  EXPECT_EQ(n.find("big")->kind(), Kind::kString);
}

TEST(YamlLoad, QuotedScalarsAreStringsAndTripleQuestionIsMissing) {
  Node n = load("a: \"1\"\nb: 'true'\nc: ???\nd: \"???\"\ne: !!str 5\nf: !!float 3\n");
  EXPECT_EQ(n.find("a")->as_string(), "1");
  EXPECT_EQ(n.find("b")->as_string(), "true");
  EXPECT_TRUE(n.find("c")->is_missing());
  EXPECT_TRUE(n.find("d")->is_missing());
  EXPECT_EQ(n.find("e")->as_string(), "5");
  EXPECT_DOUBLE_EQ(n.find("f")->as_float(), 3.0);
}

TEST(YamlLoad, RecordsFileLineAndColumnOfEveryValue) {
  Node n = load("model:\n  name: cnn\n  widths: [1, 2]\n");
  const Node* name = select(n, {"model", "name"});
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->source().str(), "test.yaml:2:9");
  EXPECT_EQ(select(n, {"model", "widths", "1"})->source().str(), "test.yaml:3:15");
}

TEST(YamlLoad, KeepsKeyOrder) {
  Node n = load("z: 1\na: 2\nm: 3\n");
  EXPECT_EQ(n.keys(), (std::vector<std::string>{"z", "a", "m"}));
}

TEST(YamlLoad, SyntaxErrorNamesFileLineAndColumn) {
  try {
    load("a: 1\nb: [1, 2\nc: 3\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("test.yaml:"), std::string::npos) << what;
    EXPECT_NE(what.find("invalid YAML"), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), ExitCode::kConfig);
  }
}

TEST(YamlLoad, DuplicateKeysAreAllReported) {
  try {
    load("a: 1\nb: 2\na: 3\nb: 4\n");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.diagnostics()[0].key, "a");
    EXPECT_NE(e.diagnostics()[0].message.find("duplicate key 'a' (first defined at test.yaml:1:4)"), std::string::npos)
        << e.diagnostics()[0].message;
    EXPECT_EQ(e.diagnostics()[0].source.str(), "test.yaml:3:1");
  }
}

TEST(YamlLoad, MergeKeysLikePyYaml) {
  Node n = load("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n  w: 4\n");
  EXPECT_EQ(to_yaml(*n.find("c")), "y: 1\nz: 3\nx: 1\nw: 4\n");
  EXPECT_THROW(load("a:\n  <<: 5\n"), ConfigError);
}

// Found by fuzz/yaml_fuzz (fuzz/corpus/yaml/regress-*).
TEST(YamlLoad, SelfContainingAliasIsAnErrorNotAStackOverflow) {
  try {
    load("a: &x\n  b: *x\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("an alias refers to a map or list that contains it"), std::string::npos);
  }
}

TEST(YamlLoad, AliasBombIsRefused) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ", " : "") + prev;
    text += "]\n";
  }
  try {
    load(text);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 200000 values"), std::string::npos) << e.what();
  }
}

// Found by fuzz/yaml_fuzz: yaml-cpp decodes \N and \_ to the Latin-1 bytes
// 0x85 and 0xA0; kiln re-encodes them as UTF-8 so they emit and load back.
TEST(YamlLoad, NextLineAndNoBreakSpaceEscapesAreUtf8) {
  Node n = load("a: \"x\\Ny\\_z\"\n\"k\\N\": 1\nb: \"\\x85 \\u00a0 \u00e9\"\n");
  EXPECT_EQ(n.find("a")->as_string(), "x\xC2\x85y\xC2\xA0z");
  EXPECT_EQ(n.keys().at(1), "k\xC2\x85");
  EXPECT_EQ(n.find("b")->as_string(), "\xC2\x85 \xC2\xA0 \xC3\xA9");
  EXPECT_EQ(load(to_yaml(n)), n);
}

TEST(YamlEmit, EscapesUnicodeLineBreaksAndControls) {
  Node n = Node::map();
  n.set("a", Node::string("x\xC2\x85y\xE2\x80\xA8z\xEF\xBB\xBFw"));
  EXPECT_EQ(to_yaml(n), "a: \"x\\u0085y\\u2028z\\ufeffw\"\n");
  EXPECT_EQ(load(to_yaml(n)), n);
}

// Found by fuzz/yaml_fuzz: YAML allows implicit keys of 1024 characters at most.
TEST(YamlEmit, VeryLongKeysUseTheExplicitKeyForm) {
  Node n = Node::map();
  n.set(std::string(1500, 'k'), Node::integer(1));
  n.set(std::string(1200, '\x1b'), Node::map());
  n.find(std::string(1200, '\x1b'))->set("x", Node::integer(2));
  EXPECT_EQ(load(to_yaml(n)), n);
}

TEST(YamlEmit, QuotesLeadingByteOrderMarks) {
  Node n = Node::map();
  n.set(
      "\xEF\xBB\xBF"
      "a",
      Node::integer(1));
  EXPECT_EQ(load(to_yaml(n)), n);
}

TEST(YamlLoad, RefusesTextThatIsNotUtf8) {
  try {
    load("a: 1\nb: caf\xE9\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].source.str(), "test.yaml:2:7");
    EXPECT_NE(e.diagnostics()[0].message.find("invalid UTF-8 byte 0xE9"), std::string::npos);
  }
  EXPECT_THROW(load("\xFE\xFF"
                    "a: 1\n"),
               ConfigError);                                   // a UTF-16 byte-order mark
  EXPECT_THROW(load(std::string("a: \0\n", 6)), ConfigError);  // NUL
  EXPECT_EQ(load("\xEF\xBB\xBF"
                 "a: caf\xC3\xA9\n")
                .find("a")
                ->as_string(),
            "caf\xC3\xA9");
}

TEST(YamlLoad, TopLevelMustBeAMap) {
  EXPECT_THROW(load("- 1\n- 2\n"), ConfigError);
  EXPECT_THROW(load("just a string\n"), ConfigError);
  EXPECT_TRUE(load("").is_map());
  EXPECT_TRUE(load("# only a comment\n").is_map());
}

TEST(YamlLoad, NonScalarKeysAndUnknownTagsAreErrors) {
  EXPECT_THROW(load("? [1, 2]\n: x\n"), ConfigError);
  try {
    load("a: !weird 1\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown YAML tag '!weird'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load("a: !!int abc\n"), ConfigError);
}

TEST(YamlLoad, ListMergeTags) {
  Node n = load("a: !append [1]\nb: !prepend [2]\nc: !merge_by_index [3]\nd: !replace [4]\ne: [5]\n");
  EXPECT_EQ(n.find("a")->list_merge(), ListMerge::kAppend);
  EXPECT_EQ(n.find("b")->list_merge(), ListMerge::kPrepend);
  EXPECT_EQ(n.find("c")->list_merge(), ListMerge::kByIndex);
  EXPECT_EQ(n.find("d")->list_merge(), ListMerge::kReplace);
  EXPECT_EQ(n.find("e")->list_merge(), ListMerge::kDefault);
}

TEST(YamlLoad, PackageHeader) {
  EXPECT_EQ(load_yaml("# @package _global_\na: 1\n", "x").package, "_global_");
  EXPECT_EQ(load_yaml("# comment\n#   @package  foo.bar  \na: 1\n", "x").package, "foo.bar");
  EXPECT_EQ(load_yaml("a: 1\n# @package late\n", "x").package, "");
}

TEST(YamlLoad, MissingFileIsAnIoErrorNamingThePath) {
  try {
    load_yaml_file("/nonexistent/kiln.yaml");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/kiln.yaml"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
}

TEST(YamlEmit, RoundTripsEveryKind) {
  const std::string text =
      "s: hello\nquoted_int: \"1\"\nquoted_bool: \"yes\"\nempty_str: \"\"\ncolon: \"a: b\"\n"
      "hash: \"x #y\"\nnewline: \"a\\nb\"\ni: -3\nf: 1.0e-05\nwhole: 2.0\ninf: .inf\nnan: .nan\n"
      "b: false\nn: null\nm: ???\ninterp: run_${seed}\nnested:\n  list:\n    - 1\n    - a: 1\n      b: [2]\n"
      "    - []\n  empty_map: {}\nappend: !append [1, 2]\n";
  Node original = load(text);
  std::string emitted = to_yaml(original);
  Node reloaded = load(emitted);
  EXPECT_EQ(original, reloaded) << emitted;
  EXPECT_EQ(reloaded.find("append")->list_merge(), ListMerge::kAppend);
  EXPECT_EQ(to_yaml(reloaded), emitted);
}

TEST(YamlEmit, FloatsAlwaysLookLikeFloats) {
  EXPECT_EQ(yaml_scalar(Node::floating(2.0)), "2.0");
  EXPECT_EQ(yaml_scalar(Node::floating(1e-5)), "1.0e-05");
  EXPECT_EQ(yaml_scalar(Node::floating(0.001)), "0.001");
  EXPECT_EQ(yaml_scalar(Node::string("1e-5")), "\"1e-5\"");
  EXPECT_EQ(yaml_scalar(Node::string("null")), "\"null\"");
  EXPECT_EQ(to_yaml(Node::map()), "{}\n");
}

}  // namespace
}  // namespace kiln::config
