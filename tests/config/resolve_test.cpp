// Interpolation semantics. Expected values were checked against OmegaConf
// 2.2 (Debian's python3-omegaconf) with OmegaConf.to_container(resolve=True)
// unless a test says it is a kiln rule.
#include "kiln/config/resolve.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

Node yaml(std::string_view text) { return load_yaml(text, "cfg.yaml").root; }

Node resolved(std::string_view text, const ResolveOptions& options = {}) { return resolve(yaml(text), options); }

const Node& at(const Node& root, std::string_view key) {
  const Node* node = select(root, parse_key(key));
  if (!node) {
    static const Node none = Node::string("<absent>");
    ADD_FAILURE() << "no key " << key;
    return none;
  }
  return *node;
}

struct Caught {
  std::string what;
  std::vector<Diagnostic> diagnostics;
};

Caught resolve_error(std::string_view text, const ResolveOptions& options = {}) {
  try {
    resolve(yaml(text), options);
  } catch (const ConfigError& e) {
    return Caught{e.what(), e.diagnostics()};
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return {};
}

// --- references and types ---

TEST(ResolveTest, WholeValueReferenceKeepsType) {
  Node r = resolved("a: 1\nf: 1.5\nt: true\nn: null\ns: hi\nb: ${a}\ng: ${f}\nu: ${t}\nm: ${n}\nq: ${s}\n");
  EXPECT_EQ(at(r, "b"), Node::integer(1));
  EXPECT_EQ(at(r, "g"), Node::floating(1.5));
  EXPECT_EQ(at(r, "u"), Node::boolean(true));
  EXPECT_TRUE(at(r, "m").is_null());
  EXPECT_EQ(at(r, "q"), Node::string("hi"));
}

TEST(ResolveTest, AbsoluteDottedKey) {
  Node r = resolved("model:\n  width: 64\nw: ${model.width}\n");
  EXPECT_EQ(at(r, "w"), Node::integer(64));
}

TEST(ResolveTest, RelativeKeysCountDotsFromTheHolder) {
  Node r = resolved("a:\n  b:\n    c: ${..x}\n    d: ${...e}\n    s: ${.t}\n    t: 3\n  x: 5\ne: 2\n");
  EXPECT_EQ(at(r, "a.b.c"), Node::integer(5));
  EXPECT_EQ(at(r, "a.b.d"), Node::integer(2));
  EXPECT_EQ(at(r, "a.b.s"), Node::integer(3));
}

TEST(ResolveTest, RelativeKeysInsideAList) {
  Node r = resolved("l: [1, 2, '${.0}', '${..x}']\nx: 9\n");
  EXPECT_EQ(at(r, "l.2"), Node::integer(1));
  EXPECT_EQ(at(r, "l.3"), Node::integer(9));
}

TEST(ResolveTest, ListIndicesWithDotsOrBrackets) {
  Node r = resolved("l: [10, 20]\nv: ${l.0}\nw: ${l[1]}\n");
  EXPECT_EQ(at(r, "v"), Node::integer(10));
  EXPECT_EQ(at(r, "w"), Node::integer(20));
}

TEST(ResolveTest, BracketedMapKeys) {
  Node r = resolved("m:\n  k:\n    z: 3\nv: ${m[k].z}\nw: ${m[k][z]}\nq: ${[m].k.z}\n");
  EXPECT_EQ(at(r, "v"), Node::integer(3));
  EXPECT_EQ(at(r, "w"), Node::integer(3));
  EXPECT_EQ(at(r, "q"), Node::integer(3));
}

TEST(ResolveTest, KeysWithPunctuation) {
  Node r = resolved("a-b: 1\na/b: 2\na@b: 3\nv: ['${a-b}', '${a/b}', '${a@b}']\n");
  EXPECT_EQ(at(r, "v.0"), Node::integer(1));
  EXPECT_EQ(at(r, "v.1"), Node::integer(2));
  EXPECT_EQ(at(r, "v.2"), Node::integer(3));
}

TEST(ResolveTest, NestedInterpolationBuildsTheKey) {
  Node r = resolved("a:\n  x: 1\n  y:\n    z: 7\nb: x\nc: y.z\nv: ${a.${b}}\nw: ${a[${b}]}\nu: ${a.${c}}\n");
  EXPECT_EQ(at(r, "v"), Node::integer(1));
  EXPECT_EQ(at(r, "w"), Node::integer(1));
  EXPECT_EQ(at(r, "u"), Node::integer(7));  // a key part giving "y.z" is two segments, as in OmegaConf
}

TEST(ResolveTest, ChainsOfReferences) {
  Node r = resolved("a: ${b}\nb: ${c}\nc: 4\n");
  EXPECT_EQ(at(r, "a"), Node::integer(4));
  EXPECT_EQ(at(r, "b"), Node::integer(4));
}

TEST(ResolveTest, WhitespaceInsideTheBraces) {
  Node r = resolved("x: 3\na: ${ x }\nb: ${x }\n");
  EXPECT_EQ(at(r, "a"), Node::integer(3));
  EXPECT_EQ(at(r, "b"), Node::integer(3));
}

// --- containers ---

TEST(ResolveTest, MapsAndListsAreCopiedWholeAndResolved) {
  Node r = resolved("a:\n  x: 1\n  y: ${.x}\nl: [1, '${a.x}']\nc:\n  b: ${a}\n  m: ${l}\n");
  EXPECT_EQ(at(r, "c.b.x"), Node::integer(1));
  EXPECT_EQ(at(r, "c.b.y"), Node::integer(1));
  EXPECT_EQ(at(r, "c.m.1"), Node::integer(1));
}

TEST(ResolveTest, RelativeInterpolationsInACopyStayRelativeToTheOriginal) {
  // OmegaConf: c.b.y is 5 (a's parent's z), not 7 (c's z).
  Node r = resolved("a:\n  x: 1\n  y: ${..z}\nz: 5\nc:\n  z: 7\n  b: ${a}\n");
  EXPECT_EQ(at(r, "c.b.y"), Node::integer(5));
}

TEST(ResolveTest, ReferencesPassThroughInterpolatedContainers) {
  Node r = resolved("a:\n  x: 1\n  y: ${..z}\nz: 5\nc:\n  b: ${a}\nd: ${c.b.y}\n");
  EXPECT_EQ(at(r, "d"), Node::integer(5));
}

TEST(ResolveTest, ReadingThroughAReferenceIsNotACycle) {
  // b is a copy of a, and a.y reads b.x: OmegaConf resolves this lazily.
  Node r = resolved("a:\n  x: 1\n  y: ${b.x}\nb: ${a}\n");
  EXPECT_EQ(at(r, "a.y"), Node::integer(1));
  EXPECT_EQ(at(r, "b.y"), Node::integer(1));
}

// --- string interpolation ---

TEST(ResolveTest, StringInterpolationIsAlwaysAString) {
  Node r = resolved("seed: 3\nmodel:\n  name: cnn\nrun: run_${seed}_${model.name}\nn: ${seed}${seed}\n");
  EXPECT_EQ(at(r, "run"), Node::string("run_3_cnn"));
  EXPECT_EQ(at(r, "n"), Node::string("33"));
}

TEST(ResolveTest, StringInterpolationWritesValuesAsPythonStr) {
  Node r = resolved(
      "t: true\nf: false\nn: null\ni: -12\nlr: 1e-5\nbig: 1.0e16\nk: 100.0\ntenth: 0.1\nsmall: 0.0001\ninf: .inf\n"
      "ninf: -.inf\nnan: .nan\nnz: -0.0\ne: ''\n"
      "v: '${t} ${f} ${n} ${i} ${lr} ${big} ${k} ${tenth} ${small} ${inf} ${ninf} ${nan} ${nz} [${e}]'\n");
  EXPECT_EQ(at(r, "v"), Node::string("True False None -12 1e-05 1e+16 100.0 0.1 0.0001 inf -inf nan -0.0 []"));
}

TEST(ResolveTest, StringInterpolationWritesContainersAsPythonRepr) {
  Node r = resolved(
      "x:\n  a: 1.5\n  b: q\nl: [true, null, 1e-7, \"it's\", 'say \"hi\"', 'both '' \"', \"tab\\t\"]\n"
      "e: {}\nv: 'x=${x} l=${l} e=${e}'\n");
  EXPECT_EQ(at(r, "v").as_string(),
            "x={'a': 1.5, 'b': 'q'} l=[True, None, 1e-07, \"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\t'] e={}");
}

TEST(ResolveTest, InterpolationTextMatchesPythonFloatRepr) {
  EXPECT_EQ(interpolation_text(Node::floating(1e15)), "1000000000000000.0");
  EXPECT_EQ(interpolation_text(Node::floating(1.2345678901234568e+16)), "1.2345678901234568e+16");
  EXPECT_EQ(interpolation_text(Node::floating(123456789.123)), "123456789.123");
  EXPECT_EQ(interpolation_text(Node::floating(1.5e-7)), "1.5e-07");
  EXPECT_EQ(interpolation_text(Node::floating(1e300)), "1e+300");
  EXPECT_EQ(interpolation_text(Node::floating(2.5e-324)), "5e-324");
  EXPECT_EQ(interpolation_text(Node::floating(0.3)), "0.3");
  EXPECT_EQ(interpolation_text(Node::missing()), "???");
}

// --- escapes ---

TEST(ResolveTest, BackslashEscapesAnInterpolation) {
  Node r = resolved(R"(x: 1
a: '\${x}'
b: '\\${x}'
c: '\\\${x}'
d: '\\\\${x}'
e: 'a\b\\c\'
f: '$${x}'
g: '$'
)");
  EXPECT_EQ(at(r, "a"), Node::string("${x}"));
  EXPECT_EQ(at(r, "b"), Node::string("\\1"));
  EXPECT_EQ(at(r, "c"), Node::string("\\${x}"));
  EXPECT_EQ(at(r, "d"), Node::string("\\\\1"));
  EXPECT_EQ(at(r, "e"), Node::string("a\\b\\\\c\\"));  // backslashes elsewhere are literal
  EXPECT_EQ(at(r, "f"), Node::string("$1"));
  EXPECT_EQ(at(r, "g"), Node::string("$"));
}

TEST(ResolveTest, AnEscapedValueReferencedElsewhereStaysLiteral) {
  Node r = resolved("y: 7\nx: '\\${y}'\nv: ${x}\nw: a${x}\n");
  EXPECT_EQ(at(r, "v"), Node::string("${y}"));
  EXPECT_EQ(at(r, "w"), Node::string("a${y}"));
}

// --- missing values ---

TEST(ResolveTest, MissingValueIsAnErrorNamingTheKeyAndWhereItWasWritten) {
  Caught c = resolve_error("model:\n  width: ???\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "model.width");
  EXPECT_EQ(c.diagnostics[0].message, "missing mandatory value: model.width");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:2:10");
  EXPECT_NE(c.diagnostics[0].hint.find("model.width=VALUE"), std::string::npos);
}

TEST(ResolveTest, MissingValueReadThroughAnInterpolationIsReportedOnce) {
  Caught c = resolve_error("b: ${model.width}\nmodel:\n  width: ???\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message, "missing mandatory value: model.width");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:3:10");
  EXPECT_NE(c.diagnostics[0].hint.find("needed by ${model.width} in 'b' (cfg.yaml:1:4)"), std::string::npos)
      << c.diagnostics[0].hint;
}

TEST(ResolveTest, AllowMissingKeepsMissingValuesAndReferencesToThem) {
  Node r = resolved("a: ???\nb: ${a}\nc:\n  d: ???\nx: ${c}\n", ResolveOptions{}.set_allow_missing(true));
  EXPECT_TRUE(at(r, "a").is_missing());
  EXPECT_TRUE(at(r, "b").is_missing());  // kiln rule: OmegaConf raises here even in to_container
  EXPECT_TRUE(at(r, "x.d").is_missing());
}

TEST(ResolveTest, AllowMissingStillRejectsAMissingValueInsideAString) {
  Caught c = resolve_error("a: ???\nb: x_${a}\n", ResolveOptions{}.set_allow_missing(true));
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "b");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:2:4");
  EXPECT_NE(c.diagnostics[0].message.find("${a} reads 'a', a missing mandatory value"), std::string::npos);
  EXPECT_NE(c.diagnostics[0].message.find("cannot be used inside a string"), std::string::npos);
}

TEST(ResolveTest, ReferenceThroughAMissingMapIsAnError) {
  Caught c = resolve_error("x: ???\nv: ${x.q}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message, "missing mandatory value: x");
}

// --- errors ---

TEST(ResolveTest, UnknownKeyNamesTheHolderAndSuggests) {
  Caught c = resolve_error("model:\n  width: 64\nrun:\n  name: w${model.widht}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  const Diagnostic& d = c.diagnostics[0];
  EXPECT_EQ(d.key, "run.name");
  EXPECT_EQ(d.source.str(), "cfg.yaml:4:9");
  EXPECT_EQ(d.message, "${model.widht} refers to 'model.widht', which does not exist");
  EXPECT_EQ(d.hint, "did you mean 'model.width'?");
  EXPECT_NE(c.what.find("cfg.yaml:4:9: error: run.name: ${model.widht} refers to"), std::string::npos) << c.what;
}

TEST(ResolveTest, UnknownRelativeKeyShowsTheAbsoluteKey) {
  Caught c = resolve_error("a:\n  widht: 1\n  v: ${.width}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message, "${.width} refers to 'a.width', which does not exist");
  EXPECT_EQ(c.diagnostics[0].hint, "did you mean 'a.widht'?");
}

TEST(ResolveTest, ListIndexOutOfRange) {
  Caught c = resolve_error("l: [1]\nv: ${l.5}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message, "${l.5} refers to 'l[5]', which does not exist ('l' is a list of 1 element)");
}

TEST(ResolveTest, ListIndexThatIsNotANumber) {
  Caught c = resolve_error("l: [1]\nv: ${l.x}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_NE(c.diagnostics[0].message.find("'l' is a list and 'x' is not an index"), std::string::npos);
}

TEST(ResolveTest, KeyBelowAScalar) {
  Caught c = resolve_error("a: 1\nv: ${a.b}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message,
            "${a.b} refers to 'a.b', which does not exist: 'a' is int 1, not a map or list, so it has no 'b'");
}

TEST(ResolveTest, RelativeKeyAboveTheRoot) {
  Caught c = resolve_error("x: 1\nv: ${..x}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "v");
  EXPECT_EQ(c.diagnostics[0].message, "${..x} goes 1 level up from 'v', past the root of the config");
}

TEST(ResolveTest, NestedKeyPartMustBeAString) {
  Caught c = resolve_error("b: 3\na:\n  x: 1\nv: ${a.${b}}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].message, "the key part ${b} of ${a.${b}} must give a string, but gave int 3");
}

TEST(ResolveTest, CycleIsPrinted) {
  Caught c = resolve_error("a: ${b}\nb: ${a}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "a");
  EXPECT_EQ(c.diagnostics[0].message, "interpolation cycle: a -> b -> a");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:1:4");
}

TEST(ResolveTest, LongerCycleAndSelfReference) {
  Caught c = resolve_error("a: x${b}\nb: ${c}\nc: ${a}\nd: ${d}\n");
  ASSERT_EQ(c.diagnostics.size(), 2u);
  EXPECT_EQ(c.diagnostics[0].message, "interpolation cycle: a -> b -> c -> a");
  EXPECT_EQ(c.diagnostics[1].message, "interpolation cycle: d -> d");
}

TEST(ResolveTest, ValueThatNeedsItsOwnContainerIsACycle) {
  Caught c = resolve_error("a:\n  x: ${a}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "a.x");
  EXPECT_EQ(c.diagnostics[0].message, "interpolation cycle: a -> a.x -> a");
  EXPECT_NE(c.diagnostics[0].hint.find("'a' contains a value that needs all of 'a'"), std::string::npos);
}

TEST(ResolveTest, IndependentErrorsAreReportedTogether) {
  Caught c = resolve_error("a: ${nope}\nb: ${oops}\nc: ???\n");
  ASSERT_EQ(c.diagnostics.size(), 3u);
  EXPECT_EQ(c.diagnostics[0].key, "a");
  EXPECT_EQ(c.diagnostics[1].key, "b");
  EXPECT_EQ(c.diagnostics[2].key, "c");
  EXPECT_NE(c.what.find("3 config errors"), std::string::npos);
}

TEST(ResolveTest, ValuesThatFailOnlyBecauseOfAnotherAddNoError) {
  Caught c = resolve_error("a: ${nope}\nb: ${a}\nc: x${b}\nd:\n  e: ${a}\nf: ${d}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "a");
}

TEST(ResolveTest, SyntaxErrorsShowTheColumn) {
  Caught c = resolve_error("v: '${a b}'\nw: 'x${a'\nu: '${a..b}'\n");
  ASSERT_EQ(c.diagnostics.size(), 3u);
  EXPECT_EQ(c.diagnostics[0].message,
            "cannot parse the interpolation in '${a b}': unexpected 'b' in the interpolation at column 1; expected "
            "'.', '[', ':' or '}' (column 5)");
  EXPECT_EQ(c.diagnostics[1].message,
            "cannot parse the interpolation in 'x${a': expected '}' to close '${' at column 2, found the end of the "
            "text (column 5)");
  EXPECT_NE(c.diagnostics[2].message.find("expected a key after '.'"), std::string::npos);
  EXPECT_EQ(c.diagnostics[0].hint, "interpolations are ${key} or ${resolver:args}; write a literal '${' as '\\${'");
}

TEST(ResolveTest, EmptyInterpolationIsAnError) {
  Caught c = resolve_error("v: '${}'\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_NE(c.diagnostics[0].message.find("expected a key in the interpolation at column 1, found '}'"),
            std::string::npos);
}

TEST(ResolveTest, TextWithoutInterpolationIsUntouched) {
  Node r = resolved("a: 'a}'\nb: '$a {b}'\nc: plain\n");
  EXPECT_EQ(at(r, "a"), Node::string("a}"));
  EXPECT_EQ(at(r, "b"), Node::string("$a {b}"));
  EXPECT_EQ(at(r, "c"), Node::string("plain"));
}

// --- the result ---

TEST(ResolveTest, InputIsNotModifiedAndResultKeepsSources) {
  Node input = yaml("a: 1\nb: ${a}\n");
  Node r = resolve(input);
  EXPECT_EQ(at(input, "b"), Node::string("${a}"));
  EXPECT_EQ(at(r, "b").source().str(), "cfg.yaml:2:4");  // where the interpolation was written
  EXPECT_EQ(at(r, "a").source().str(), "cfg.yaml:1:4");
}

TEST(ResolveTest, ResolveAtResolvesOnlyThePath) {
  Node root = yaml("a: ${b}\nb: 2\nbroken: ${nope}\nmissing: ???\nm:\n  x: ${b}\n");
  EXPECT_EQ(resolve_at(root, {"a"}), Node::integer(2));
  Node m = resolve_at(root, {"m"});
  EXPECT_EQ(at(m, "x"), Node::integer(2));
}

TEST(ResolveTest, ResolveAtKeepsRelativeInterpolationsRelativeToTheirPlace) {
  Node root = yaml("a:\n  y: ${..z}\n  w: ${.y}\nz: 5\n");
  EXPECT_EQ(resolve_at(root, {"a", "w"}), Node::integer(5));
}

TEST(ResolveTest, ContainerReprQuotesMissingAndNestedValues) {
  Node m = Node::map();
  m.set("q", Node::missing());
  Node l = Node::list();
  l.push_back(Node::map());
  l.push_back(Node::list());
  m.set("l", l);
  EXPECT_EQ(interpolation_text(m), "{'q': '\?\?\?', 'l': [{}, []]}");
}

TEST(ResolveTest, ResolveAtUnknownPath) {
  Node root = yaml("model:\n  width: 1\n");
  try {
    resolve_at(root, parse_key("model.widht"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].message, "key 'model.widht' does not exist");
    EXPECT_EQ(e.diagnostics()[0].hint, "did you mean 'model.width'?");
  }
}

TEST(ResolveTest, ResolveAtMissingValue) {
  Node root = yaml("a: ???\nb: ${a}\n");
  EXPECT_THROW(resolve_at(root, {"b"}), ConfigError);
  EXPECT_TRUE(resolve_at(root, {"b"}, ResolveOptions{}.set_allow_missing(true)).is_missing());
}

TEST(ResolveTest, ManyReferencesToOneValueResolveOnce) {
  std::string text = "base: ${calc:1 + 1}\n";
  for (int i = 0; i < 200; ++i) text += "k" + std::to_string(i) + ": ${base}\n";
  Node r = resolved(text);
  EXPECT_EQ(at(r, "k199"), Node::integer(2));
}

TEST(ResolveTest, LongChainsResolve) {
  std::string text = "k0: 1\n";
  for (int i = 1; i < 200; ++i) text += "k" + std::to_string(i) + ": ${k" + std::to_string(i - 1) + "}\n";
  EXPECT_EQ(at(resolved(text), "k199"), Node::integer(1));
}

TEST(ResolveTest, RunawayChainIsAnErrorNotACrash) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "k" + std::to_string(i) + ": ${k" + std::to_string(i + 1) + "}\n";
  text += "k2000: 1\n";
  Caught c = resolve_error(text);
  ASSERT_GE(c.diagnostics.size(), 1u);
  EXPECT_NE(c.diagnostics[0].message.find("more than 256 levels deep"), std::string::npos) << c.diagnostics[0].message;
}

TEST(ResolveTest, DeeplyNestedInterpolationIsAnErrorNotACrash) {
  std::string value;
  for (int i = 0; i < 5000; ++i) value += "${a.";
  Node root = Node::map();
  root.set("v", Node::string(value));
  EXPECT_THROW(resolve(root), ConfigError);
  std::string calc = "${calc:";
  for (int i = 0; i < 5000; ++i) calc += "-";
  root.set("v", Node::string(calc + "1}"));
  try {
    resolve(root);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nests more than 200 levels deep"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::config
