// Parsing command-line overrides: Hydra 1.3's grammar, kiln's errors.
// (Applying them to a config is in override_apply_test.cpp.)
#include "kiln/config/override.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kiln/config/error.h"

namespace kiln::config {
namespace {

Node value_of(std::string_view text) {
  Override o = parse_override(text, 1);
  EXPECT_TRUE(o.value.has_value()) << text;
  EXPECT_FALSE(o.is_sweep()) << text;
  return o.value ? *o.value : Node();
}

// The value of "a=<value>".
Node v(std::string_view value) { return value_of("a=" + std::string(value)); }

std::string string_of(std::string_view value) {
  Node n = v(value);
  EXPECT_EQ(n.kind(), Kind::kString) << value << " -> " << kind_name(n.kind());
  return n.kind() == Kind::kString ? n.as_string() : std::string();
}

Sweep sweep_of(std::string_view text) {
  Override o = parse_override(text, 1);
  EXPECT_TRUE(o.is_sweep()) << text;
  EXPECT_FALSE(o.value.has_value()) << text;
  return o.sweep ? *o.sweep : Sweep{};
}

// The one diagnostic parse_override throws for `text`.
Diagnostic parse_error(std::string_view text) {
  try {
    parse_override(text, 2);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u) << e.what();
    if (!e.diagnostics().empty()) return e.diagnostics()[0];
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

Node list_of(std::initializer_list<Node> items) {
  Node l = Node::list();
  for (const auto& i : items) l.push_back(i);
  return l;
}

// --- prefixes, keys, packages ---

TEST(OverrideParse, SetAddForceAddDelete) {
  Override set = parse_override("optimizer.lr=0.1", 1);
  EXPECT_EQ(set.op, OverrideOp::kSet);
  EXPECT_EQ(set.key, "optimizer.lr");
  EXPECT_EQ(*set.value, Node::floating(0.1));

  Override add = parse_override("+trainer.seed=7", 1);
  EXPECT_EQ(add.op, OverrideOp::kAdd);
  EXPECT_EQ(add.key, "trainer.seed");
  EXPECT_EQ(*add.value, Node::integer(7));

  Override force = parse_override("++trainer.seed=7", 1);
  EXPECT_EQ(force.op, OverrideOp::kForceAdd);
  EXPECT_EQ(force.key, "trainer.seed");

  Override del = parse_override("~trainer.seed", 1);
  EXPECT_EQ(del.op, OverrideOp::kDelete);
  EXPECT_EQ(del.key, "trainer.seed");
  EXPECT_FALSE(del.value.has_value());

  Override del_value = parse_override("~trainer.seed=7", 1);
  EXPECT_EQ(del_value.op, OverrideOp::kDelete);
  EXPECT_EQ(*del_value.value, Node::integer(7));
}

TEST(OverrideParse, TextIndexAndSource) {
  Override o = parse_override("optimizer.lr=abc", 2);
  EXPECT_EQ(o.text, "optimizer.lr=abc");
  EXPECT_EQ(o.index, 2);
  EXPECT_EQ(o.source.str(), "override #2 'optimizer.lr=abc'");
  EXPECT_EQ(o.value->source().str(), "override #2 'optimizer.lr=abc'");
}

TEST(OverrideParse, EveryNodeOfTheValueCarriesTheOverrideSource) {
  Override o = parse_override("a={b: [1, {c: 2}], d: x}", 3);
  const Node& b = *o.value->find("b");
  for (const Node* n :
       std::initializer_list<const Node*>{&*o.value, &b, &b.at(0), &b.at(1), b.at(1).find("c"), o.value->find("d")})
    EXPECT_EQ(n->source().str(), "override #3 'a={b: [1, {c: 2}], d: x}'");
}

TEST(OverrideParse, KeyShapes) {
  EXPECT_EQ(parse_override("trainer.gpus.0=1", 1).key, "trainer.gpus.0");
  EXPECT_EQ(parse_override("a-b.c_d.$e=1", 1).key, "a-b.c_d.$e");
  EXPECT_EQ(parse_override("_x=1", 1).key, "_x");
  Override group = parse_override("model/encoder=small", 1);
  EXPECT_EQ(group.key, "model/encoder");
  EXPECT_EQ(*group.value, Node::string("small"));
}

TEST(OverrideParse, Package) {
  Override o = parse_override("model@backbone=cnn", 1);
  EXPECT_EQ(o.key, "model");
  EXPECT_EQ(o.package, "backbone");
  Override nested = parse_override("model/encoder@net.enc=small", 1);
  EXPECT_EQ(nested.key, "model/encoder");
  EXPECT_EQ(nested.package, "net.enc");
  EXPECT_EQ(parse_override("+aug@_global_=strong", 1).package, "_global_");
  EXPECT_EQ(parse_override("~model@backbone", 1).package, "backbone");
}

TEST(OverrideParse, KeyText) {
  EXPECT_EQ(parse_override("++a.b=1", 1).key_text(), "++a.b");
  EXPECT_EQ(parse_override("+a=1", 1).key_text(), "+a");
  EXPECT_EQ(parse_override("~a", 1).key_text(), "~a");
  EXPECT_EQ(parse_override("model@backbone=cnn", 1).key_text(), "model@backbone");
}

// --- value types ---

TEST(OverrideValue, Ints) {
  EXPECT_EQ(v("1"), Node::integer(1));
  EXPECT_EQ(v("0"), Node::integer(0));
  EXPECT_EQ(v("-3"), Node::integer(-3));
  EXPECT_EQ(v("+7"), Node::integer(7));
  EXPECT_EQ(v("1_000"), Node::integer(1000));
  EXPECT_EQ(v("9223372036854775807"), Node::integer(9223372036854775807));
  EXPECT_EQ(v("-9223372036854775808"), Node::integer(std::numeric_limits<std::int64_t>::min()));
}

TEST(OverrideValue, NumberLikeTextThatHydraLexesAsSeveralTokensIsAString) {
  EXPECT_EQ(string_of("01"), "01");
  EXPECT_EQ(string_of("1__0"), "1__0");
  EXPECT_EQ(string_of("1_"), "1_");
  EXPECT_EQ(string_of("0x10"), "0x10");
  EXPECT_EQ(string_of("1e"), "1e");
  EXPECT_EQ(string_of("1.5.3"), "1.5.3");
  EXPECT_EQ(string_of("Infinity"), "Infinity");
  EXPECT_EQ(string_of("1 2"), "1 2");
  EXPECT_EQ(string_of("-"), "-");
  EXPECT_EQ(string_of("."), ".");
}

TEST(OverrideValue, Floats) {
  EXPECT_EQ(v("1.5"), Node::floating(1.5));
  EXPECT_EQ(v("1e-4"), Node::floating(1e-4));
  EXPECT_EQ(v("-2.5E3"), Node::floating(-2500.0));
  EXPECT_EQ(v("1."), Node::floating(1.0));
  EXPECT_EQ(v(".5"), Node::floating(0.5));
  EXPECT_EQ(v("-.5"), Node::floating(-0.5));
  EXPECT_EQ(v("1_000.5"), Node::floating(1000.5));
  EXPECT_EQ(v("1e1_0"), Node::floating(1e10));
  EXPECT_EQ(v("1.e3"), Node::floating(1000.0));
  EXPECT_EQ(v("1e999"), Node::floating(INFINITY));  // as Python's float()
}

TEST(OverrideValue, InfAndNanInAnyCase) {
  EXPECT_EQ(v("inf"), Node::floating(INFINITY));
  EXPECT_EQ(v("+INF"), Node::floating(INFINITY));
  EXPECT_EQ(v("-inf"), Node::floating(-INFINITY));
  EXPECT_EQ(v("-Inf"), Node::floating(-INFINITY));
  Node nan = v("nan");
  ASSERT_EQ(nan.kind(), Kind::kFloat);
  EXPECT_TRUE(std::isnan(nan.as_float()));
  EXPECT_TRUE(std::isnan(v("NaN").as_float()));
}

TEST(OverrideValue, BoolsInAnyCaseButNotYaml11Words) {
  EXPECT_EQ(v("true"), Node::boolean(true));
  EXPECT_EQ(v("TRUE"), Node::boolean(true));
  EXPECT_EQ(v("tRuE"), Node::boolean(true));
  EXPECT_EQ(v("False"), Node::boolean(false));
  // Hydra's grammar, unlike YAML 1.1, has no yes/no/on/off.
  EXPECT_EQ(string_of("yes"), "yes");
  EXPECT_EQ(string_of("off"), "off");
  EXPECT_EQ(string_of("truex"), "truex");
}

TEST(OverrideValue, NullInAnyCase) {
  EXPECT_TRUE(v("null").is_null());
  EXPECT_TRUE(v("NULL").is_null());
  EXPECT_TRUE(v("Null").is_null());
  EXPECT_EQ(string_of("nullx"), "nullx");
  EXPECT_EQ(string_of("~"), "~");  // YAML's null spelling is just text here
}

TEST(OverrideValue, MissingMarker) {
  EXPECT_TRUE(v("??\?").is_missing());
  EXPECT_TRUE(v("'??\?'").is_missing());  // OmegaConf reads the string ??? as MISSING wherever it appears
}

TEST(OverrideValue, EmptyValueIsTheEmptyString) {
  EXPECT_EQ(v(""), Node::string(""));
  EXPECT_EQ(v("   "), Node::string(""));
}

TEST(OverrideValue, QuotedValuesAreAlwaysStrings) {
  EXPECT_EQ(string_of("'1'"), "1");
  EXPECT_EQ(string_of("\"true\""), "true");
  EXPECT_EQ(string_of("'null'"), "null");
  EXPECT_EQ(string_of("'1.5'"), "1.5");
  EXPECT_EQ(string_of("''"), "");
  EXPECT_EQ(string_of("\"\""), "");
  EXPECT_EQ(string_of("'hello world'"), "hello world");
  EXPECT_EQ(string_of("'  padded  '"), "  padded  ");
  EXPECT_EQ(string_of("'a,b'"), "a,b");
  EXPECT_EQ(string_of("'[1, 2]'"), "[1, 2]");
  EXPECT_EQ(string_of("\"it's\""), "it's");
  EXPECT_EQ(string_of("'say \"hi\"'"), "say \"hi\"");
  EXPECT_EQ(string_of("  'x'  "), "x");
}

TEST(OverrideValue, QuotedStringEscapes) {
  EXPECT_EQ(string_of(R"('it\'s')"), "it's");
  EXPECT_EQ(string_of(R"("say \"hi\"")"), "say \"hi\"");
  // Backslashes not before the quote are literal, as in Hydra.
  EXPECT_EQ(string_of(R"('C:\dir\file')"), R"(C:\dir\file)");
  EXPECT_EQ(string_of(R"('a\\b')"), R"(a\\b)");
  // Before the closing quote, backslashes come in escaped pairs.
  EXPECT_EQ(string_of(R"('ends\\')"), R"(ends\)");
  EXPECT_EQ(string_of(R"('ends\\\\')"), R"(ends\\)");
  // An escaped backslash followed by an escaped quote.
  EXPECT_EQ(string_of(R"('a\\\'b')"), R"(a\'b)");
  // The other quote character needs no escape, and its backslashes stay.
  EXPECT_EQ(string_of(R"('a\"b')"), R"(a\"b)");
}

TEST(OverrideValue, UnquotedStringsKeepInnerWhitespaceAndTrimOuter) {
  EXPECT_EQ(string_of("hello world"), "hello world");
  EXPECT_EQ(string_of("  hello   world  "), "hello   world");
  EXPECT_EQ(string_of("a\tb"), "a\tb");
}

TEST(OverrideValue, UnquotedStringCharacters) {
  EXPECT_EQ(string_of("/path/to-file_1.txt"), "/path/to-file_1.txt");
  EXPECT_EQ(string_of("$HOME"), "$HOME");
  EXPECT_EQ(string_of("50%"), "50%");
  EXPECT_EQ(string_of("res*"), "res*");
  EXPECT_EQ(string_of("user@host"), "user@host");
  EXPECT_EQ(string_of("a?b|c+d"), "a?b|c+d");
  EXPECT_EQ(string_of("b:c"), "b:c");
  EXPECT_EQ(string_of(":x"), ":x");
  EXPECT_EQ(string_of("https://example.com/x"), "https://example.com/x");
  // Beyond Hydra's character set (Hydra rejects these; kiln keeps them as text).
  EXPECT_EQ(string_of("#tag"), "#tag");
  EXPECT_EQ(string_of("a&b;c!"), "a&b;c!");
  EXPECT_EQ(string_of("héllo"), "héllo");
}

TEST(OverrideValue, UnquotedEscapes) {
  EXPECT_EQ(string_of(R"(a\,b)"), "a,b");
  EXPECT_EQ(string_of(R"(\(x\))"), "(x)");
  EXPECT_EQ(string_of(R"(\[\]\{\})"), "[]{}");
  EXPECT_EQ(string_of(R"(a\:b)"), "a:b");
  EXPECT_EQ(string_of(R"(a\=b)"), "a=b");
  EXPECT_EQ(string_of(R"(a\\b)"), R"(a\b)");
  EXPECT_EQ(string_of("a\\\tb"), "a\tb");
  // An escaped blank is kept even at the ends.
  EXPECT_EQ(string_of(R"(a\ )"), "a ");
  EXPECT_EQ(string_of(R"(\ a)"), " a");
  // A backslash before any other character is literal.
  EXPECT_EQ(string_of(R"(a\nb)"), R"(a\nb)");
  EXPECT_EQ(string_of(R"(trailing\)"), R"(trailing\)");
}

TEST(OverrideValue, EscapesMakeAnyValueAString) {
  EXPECT_EQ(string_of(R"(1\ )"), "1 ");
  EXPECT_EQ(string_of(R"(\,)"), ",");
}

TEST(OverrideValue, InterpolationsAreKeptVerbatim) {
  Node n = v("${model.dim}");
  EXPECT_EQ(n, Node::string("${model.dim}"));
  EXPECT_TRUE(n.is_interpolation());
  EXPECT_EQ(string_of("${oc.env:HOME,/tmp}"), "${oc.env:HOME,/tmp}");  // its comma is not a sweep
  EXPECT_EQ(string_of("${a}_${b}"), "${a}_${b}");
  EXPECT_EQ(string_of("runs/${now:%Y-%m-%d}/x"), "runs/${now:%Y-%m-%d}/x");
  EXPECT_EQ(string_of("${oc.select:${key},default}"), "${oc.select:${key},default}");
  EXPECT_EQ(string_of("${f:'a,}b',\"}\"}"), "${f:'a,}b',\"}\"}");
  EXPECT_EQ(string_of("${1}"), "${1}");          // never typed
  EXPECT_EQ(string_of(R"(\${x})"), R"(\${x})");  // OmegaConf's escaped interpolation, left for it
  EXPECT_EQ(string_of("'${a} b'"), "${a} b");
  EXPECT_EQ(v("[${a}, 1]"), list_of({Node::string("${a}"), Node::integer(1)}));
}

TEST(OverrideValue, Lists) {
  EXPECT_EQ(v("[]"), Node::list());
  EXPECT_EQ(v("[ ]"), Node::list());
  EXPECT_EQ(v("[1, 'a', [2]]"), list_of({Node::integer(1), Node::string("a"), list_of({Node::integer(2)})}));
  EXPECT_EQ(v("[ 1 ,2 ]"), list_of({Node::integer(1), Node::integer(2)}));
  EXPECT_EQ(v("[null, true, 1.5, ???]"),
            list_of({Node::null(), Node::boolean(true), Node::floating(1.5), Node::missing()}));
  EXPECT_EQ(v("[a b, c]"), list_of({Node::string("a b"), Node::string("c")}));
  EXPECT_EQ(v("[[[]]]"), list_of({list_of({Node::list()})}));
  EXPECT_EQ(v("['a,b', \"c]\"]"), list_of({Node::string("a,b"), Node::string("c]")}));
}

TEST(OverrideValue, Dicts) {
  EXPECT_EQ(v("{}"), Node::map());
  Node d = v("{a: 1, b: [2], c: {d: x y}}");
  ASSERT_TRUE(d.is_map());
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*d.find("a"), Node::integer(1));
  EXPECT_EQ(*d.find("b"), list_of({Node::integer(2)}));
  EXPECT_EQ(*d.find("c")->find("d"), Node::string("x y"));
  EXPECT_EQ(v("{a:1}").keys(), (std::vector<std::string>{"a"}));
  // Key order is the order written.
  EXPECT_EQ(v("{z: 1, a: 2, m: 3}").keys(), (std::vector<std::string>{"z", "a", "m"}));
}

TEST(OverrideValue, DictKeysAreAlwaysStrings) {
  Node d = v("{1: a, true: b, null: c, 'x y': d, a\\:b: e}");
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"1", "true", "null", "x y", "a:b"}));
}

TEST(OverrideValue, DeepNesting) {
  Node d = v("{a: [{b: {c: [1, [2, {d: 3}]]}}]}");
  EXPECT_EQ(*d.find("a")->at(0).find("b")->find("c")->at(1).at(1).find("d"), Node::integer(3));
}

// --- sweeps ---

TEST(OverrideSweep, SimpleChoice) {
  Sweep s = sweep_of("a=1,2,3");
  EXPECT_EQ(s.kind, SweepKind::kChoice);
  EXPECT_TRUE(s.simple_form);
  EXPECT_EQ(s.choices, (std::vector<Node>{Node::integer(1), Node::integer(2), Node::integer(3)}));
  EXPECT_EQ(s.text, "1,2,3");
}

TEST(OverrideSweep, SimpleChoiceOfMixedElements) {
  Sweep s = sweep_of("a=[1,2], 'x,y', {k: v}, null");
  ASSERT_EQ(s.choices.size(), 4u);
  EXPECT_EQ(s.choices[0], list_of({Node::integer(1), Node::integer(2)}));
  EXPECT_EQ(s.choices[1], Node::string("x,y"));
  EXPECT_TRUE(s.choices[2].is_map());
  EXPECT_TRUE(s.choices[3].is_null());
  EXPECT_EQ(s.text, "[1,2], 'x,y', {k: v}, null");
}

TEST(OverrideSweep, ChoiceFunction) {
  Sweep s = sweep_of("a=choice(1, 'b', [c])");
  EXPECT_EQ(s.kind, SweepKind::kChoice);
  EXPECT_FALSE(s.simple_form);
  EXPECT_EQ(s.choices, (std::vector<Node>{Node::integer(1), Node::string("b"), list_of({Node::string("c")})}));
  EXPECT_EQ(s.text, "choice(1, 'b', [c])");
  EXPECT_EQ(sweep_of("a=choice (1)").choices.size(), 1u);
}

TEST(OverrideSweep, Range) {
  Sweep s = sweep_of("a=range(0,3)");
  EXPECT_EQ(s.kind, SweepKind::kRange);
  EXPECT_EQ(s.start, Node::integer(0));
  EXPECT_EQ(s.stop, Node::integer(3));
  EXPECT_EQ(s.step, Node::integer(1));
  EXPECT_EQ(s.text, "range(0,3)");

  Sweep stop_only = sweep_of("a=range(5)");
  EXPECT_EQ(stop_only.start, Node::integer(0));
  EXPECT_EQ(stop_only.stop, Node::integer(5));

  Sweep floats = sweep_of("a=range(0,1,0.25)");
  EXPECT_EQ(floats.step, Node::floating(0.25));

  Sweep named = sweep_of("a=range(start=1, stop=10, step=3)");
  EXPECT_EQ(named.start, Node::integer(1));
  EXPECT_EQ(named.stop, Node::integer(10));
  EXPECT_EQ(named.step, Node::integer(3));

  Sweep mixed = sweep_of("a=range(10, step=-2, stop=0)");
  EXPECT_EQ(mixed.start, Node::integer(10));
  EXPECT_EQ(mixed.step, Node::integer(-2));
}

TEST(OverrideSweep, Glob) {
  Sweep all = sweep_of("model=glob(*)");
  EXPECT_EQ(all.kind, SweepKind::kGlob);
  EXPECT_EQ(all.include, (std::vector<std::string>{"*"}));
  EXPECT_TRUE(all.exclude.empty());
  EXPECT_EQ(sweep_of("model=glob([cnn,mlp])").include, (std::vector<std::string>{"cnn", "mlp"}));
  Sweep excluded = sweep_of("model=glob(*,exclude=res*)");
  EXPECT_EQ(excluded.include, (std::vector<std::string>{"*"}));
  EXPECT_EQ(excluded.exclude, (std::vector<std::string>{"res*"}));
  Sweep named = sweep_of("model=glob(include=[a*, '[!x]*'], exclude=[b*, c?])");
  EXPECT_EQ(named.include, (std::vector<std::string>{"a*", "[!x]*"}));
  EXPECT_EQ(named.exclude, (std::vector<std::string>{"b*", "c?"}));
}

TEST(OverrideSweep, SweepsKeepKeyAndPrefix) {
  Override o = parse_override("+model@backbone=cnn,mlp", 4);
  EXPECT_EQ(o.op, OverrideOp::kAdd);
  EXPECT_EQ(o.key, "model");
  EXPECT_EQ(o.package, "backbone");
  EXPECT_TRUE(o.is_sweep());
  EXPECT_EQ(o.sweep->choices[0].source().str(), "override #4 '+model@backbone=cnn,mlp'");
}

// --- syntax errors: override, column, what was expected ---

TEST(OverrideParseError, NamesTheOverrideAndColumn) {
  Diagnostic d = parse_error("a=[1,2");
  EXPECT_EQ(d.source.str(), "override #2 'a=[1,2'");
  EXPECT_EQ(d.key, "a");
  EXPECT_EQ(d.message,
            "syntax error at column 7: expected ',' or ']' to close the list opened at column 3, found the end of "
            "the value");
  try {
    parse_override("a=[1,2", 2);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.exit_code(), ExitCode::kConfig);
    EXPECT_NE(std::string(e.what()).find("override #2 'a=[1,2': error: a: syntax error at column 7"), std::string::npos)
        << e.what();
  }
}

TEST(OverrideParseError, UnbalancedBrackets) {
  EXPECT_NE(parse_error("a={b: 1").message.find("column 8: expected ',' or '}' to close the dict opened at column 3"),
            std::string::npos);
  Diagnostic extra = parse_error("a=[1,2]]");
  EXPECT_NE(extra.message.find("column 8: expected ',' or the end of the value, found ']'"), std::string::npos);
  EXPECT_NE(extra.hint.find("nothing is open here"), std::string::npos);
  EXPECT_NE(parse_error("a=[1}").message.find("column 5: expected ',' or ']' to close the list opened at column 3, "
                                              "found '}'"),
            std::string::npos);
  EXPECT_NE(
      parse_error("a=choice(1,2").message.find("expected ',' or ')' to close the call choice( opened at column 9"),
      std::string::npos);
}

TEST(OverrideParseError, UnterminatedQuote) {
  Diagnostic d = parse_error("a='abc");
  EXPECT_EQ(d.message,
            "syntax error at column 7: unterminated quoted string: expected a closing ' for the quote at column 3, "
            "found the end of the value");
  EXPECT_NE(d.hint.find("\\'"), std::string::npos);
  EXPECT_NE(parse_error(R"(a="abc\")").message.find("expected a closing \""), std::string::npos);
}

TEST(OverrideParseError, UnterminatedInterpolation) {
  Diagnostic d = parse_error("a=${model.dim");
  EXPECT_NE(d.message.find("column 14: unterminated interpolation: expected '}' to close the '${' at column 3"),
            std::string::npos);
}

TEST(OverrideParseError, MissingEquals) {
  Diagnostic d = parse_error("optimizer.lr");
  EXPECT_EQ(d.message,
            "syntax error at column 13: expected '=' after the key 'optimizer.lr', found the end of the "
            "override");
  EXPECT_NE(d.hint.find("'optimizer.lr=VALUE'"), std::string::npos);
  EXPECT_NE(d.hint.find("'+optimizer.lr=VALUE'"), std::string::npos);
  EXPECT_NE(d.hint.find("'~optimizer.lr'"), std::string::npos);
  EXPECT_NE(parse_error("+a").message.find("expected '=' after the key '+a'"), std::string::npos);
  EXPECT_NE(parse_error("++a").message.find("expected '=' after the key '++a'"), std::string::npos);
}

TEST(OverrideParseError, MissingOrEmptyKey) {
  EXPECT_NE(parse_error("=1").message.find("column 1: expected a key, found '='"), std::string::npos);
  EXPECT_NE(parse_error("+=1").message.find("column 2: expected a key"), std::string::npos);
  EXPECT_NE(parse_error("~").message.find("expected a key, found the end of the override"), std::string::npos);
  EXPECT_NE(parse_error("").message.find("the override is empty"), std::string::npos);
}

TEST(OverrideParseError, InvalidKeys) {
  EXPECT_NE(parse_error("a..b=1").message.find("column 3: empty segment in key 'a..b'"), std::string::npos);
  EXPECT_NE(parse_error(".a=1").message.find("column 1: empty segment"), std::string::npos);
  EXPECT_NE(parse_error("a.=1").message.find("column 3: empty segment"), std::string::npos);
  EXPECT_NE(parse_error("a#b=1").message.find("column 2: unexpected '#' in key 'a#b'"), std::string::npos);
  EXPECT_NE(parse_error("a b=1").message.find("column 2: unexpected ' ' in key 'a b'"), std::string::npos);
  EXPECT_NE(parse_error("a.1x=1").message.find("a segment starting with a digit must be a list index"),
            std::string::npos);
  Diagnostic brackets = parse_error("trainer.gpus[0]=1");
  EXPECT_NE(brackets.message.find("column 13: unexpected '['"), std::string::npos);
  EXPECT_NE(brackets.hint.find("'trainer.gpus.0'"), std::string::npos);
  EXPECT_EQ(brackets.source.str(), "override #2 'trainer.gpus[0]=1'");
}

TEST(OverrideParseError, InvalidPrefixes) {
  EXPECT_NE(parse_error("+++a=1").message.find("column 3: unexpected '+' after the prefix '++'"), std::string::npos);
  EXPECT_NE(parse_error("+~a").message.find("column 2: unexpected '~' after the prefix '+'"), std::string::npos);
  EXPECT_NE(parse_error("~~a").hint.find("at most one of"), std::string::npos);
}

TEST(OverrideParseError, InvalidGroupsAndPackages) {
  EXPECT_NE(parse_error("model@=cnn").message.find("column 7: expected a package name after '@'"), std::string::npos);
  EXPECT_NE(parse_error("a@b@c=1").message.find("column 4: a key can have only one '@package'"), std::string::npos);
  EXPECT_NE(parse_error("model//x=1").message.find("empty name in config group path 'model//x'"), std::string::npos);
  EXPECT_NE(parse_error("model/enc.x=1").message.find("column 10: unexpected '.' in config group path"),
            std::string::npos);
  EXPECT_NE(parse_error("model@a..b=1").message.find("empty segment in package 'a..b'"), std::string::npos);
}

TEST(OverrideParseError, MisplacedStructuralCharacters) {
  Diagnostic eq = parse_error("a=b=c");
  EXPECT_NE(eq.message.find("column 4: expected ',' or the end of the value, found '='"), std::string::npos);
  EXPECT_NE(eq.hint.find("\\="), std::string::npos);
  Diagnostic paren = parse_error("a=(1)");
  EXPECT_NE(paren.message.find("column 3: expected a value, found '('"), std::string::npos);
  Diagnostic close = parse_error("a=x y)");
  EXPECT_NE(close.message.find("column 6: expected ',' or the end of the value, found ')'"), std::string::npos);
  EXPECT_NE(close.hint.find("\\)"), std::string::npos);
  EXPECT_NE(parse_error("a=x[1]").message.find("found '['"), std::string::npos);
}

TEST(OverrideParseError, QuotesInsideUnquotedValues) {
  Diagnostic inner = parse_error("a=it's");
  EXPECT_NE(inner.message.find("column 5: unexpected quote inside an unquoted value"), std::string::npos);
  EXPECT_NE(inner.hint.find("put the quotes around all of it"), std::string::npos);
  EXPECT_NE(parse_error("a='x'y").message.find("column 6: expected ',' or the end of the element after the quoted "
                                               "string, found 'y'"),
            std::string::npos);
}

TEST(OverrideParseError, EmptyElements) {
  EXPECT_NE(parse_error("a=1,,2").message.find("column 5: expected a value, found ','"), std::string::npos);
  Diagnostic trailing = parse_error("a=1,");
  EXPECT_NE(trailing.message.find("column 5: expected a value after ','"), std::string::npos);
  EXPECT_EQ(trailing.hint, "remove the trailing comma");
  EXPECT_NE(parse_error("a=,1").message.find("column 3: expected a value, found ','"), std::string::npos);
  EXPECT_NE(parse_error("a=[1,]").message.find("column 6: expected a list element after ','"), std::string::npos);
  EXPECT_NE(parse_error("a=[,1]").message.find("column 4: expected a value, found ','"), std::string::npos);
  EXPECT_NE(parse_error("a={b:}").message.find("column 6: expected a value, found '}'"), std::string::npos);
  EXPECT_NE(parse_error("a={b: 1,}").message.find("expected a dict key after ','"), std::string::npos);
  EXPECT_NE(parse_error("a=range(1,)").message.find("expected an argument after ','"), std::string::npos);
}

TEST(OverrideParseError, DictErrors) {
  Diagnostic colon = parse_error("a={b}");
  EXPECT_NE(colon.message.find("column 5: expected ':' after the dict key 'b', found '}'"), std::string::npos);
  EXPECT_EQ(colon.hint, "dict entries are written key: value");
  EXPECT_NE(parse_error("a={b: 1, b: 2}").message.find("column 10: duplicate key 'b' in the dict opened at column 3"),
            std::string::npos);
  EXPECT_NE(parse_error("a={:1}").message.find("column 4: expected a dict key, found ':'"), std::string::npos);
  EXPECT_NE(parse_error("a={${x}: 1}").message.find("interpolations are not allowed in dict keys"), std::string::npos);
}

TEST(OverrideParseError, ControlCharacters) {
  EXPECT_NE(parse_error("a=x\ny").message.find("column 4: unexpected control character 0x0A"), std::string::npos);
  EXPECT_NE(parse_error("a\x01=1").message.find("unexpected control character 0x01 in key"), std::string::npos);
}

TEST(OverrideParseError, IntOutOfRange) {
  Diagnostic d = parse_error("a=99999999999999999999");
  EXPECT_NE(d.message.find("column 3: integer 99999999999999999999 is out of range for a 64-bit int"),
            std::string::npos);
  EXPECT_NE(d.hint.find("'99999999999999999999'"), std::string::npos);
}

TEST(OverrideParseError, ColumnsCountCodePoints) {
  EXPECT_NE(parse_error("a=[é").message.find("column 5:"), std::string::npos);
}

TEST(OverrideParseError, NestingTooDeepIsAnErrorNotACrash) {
  EXPECT_NE(parse_error("a=" + std::string(100000, '[')).message.find("nested more than 64 levels deep"),
            std::string::npos);
  std::string dicts;
  for (int i = 0; i < 70; ++i) dicts += "{a:";
  EXPECT_NE(parse_error("a=" + dicts).message.find("nested more than 64 levels deep"), std::string::npos);
  std::string calls;
  for (int i = 0; i < 70; ++i) calls += "choice(";
  EXPECT_NE(parse_error("a=" + calls).message.find("nested more than 64 levels deep"), std::string::npos);
  // 64 levels are fine.
  EXPECT_TRUE(v(std::string(64, '[') + std::string(64, ']')).is_list());
}

TEST(OverrideParseError, SweepsWhereOnlyOneValueFits) {
  EXPECT_NE(parse_error("a=[1,choice(1,2)]").message.find("column 6: a sweep cannot be a list element"),
            std::string::npos);
  EXPECT_NE(parse_error("a={b: range(2)}").message.find("a sweep cannot be a dict value"), std::string::npos);
  EXPECT_NE(parse_error("a=range(3),4").message.find("column 3: a sweep cannot be one of several comma-separated"),
            std::string::npos);
  EXPECT_NE(parse_error("a=choice(range(3))").message.find("a sweep cannot be an argument of choice()"),
            std::string::npos);
  Diagnostic del = parse_error("~a=1,2");
  EXPECT_NE(del.message.find("column 5: a comma-separated list of values (a sweep) is not allowed here"),
            std::string::npos);
  EXPECT_NE(del.hint.find("cannot take a sweep"), std::string::npos);
  EXPECT_NE(parse_error("~a=range(2)").message.find("a sweep is not allowed here"), std::string::npos);
}

// --- function argument errors ---

TEST(OverrideFunctionError, RangeArguments) {
  Diagnostic word = parse_error("a=range(a)");
  EXPECT_EQ(word.message, "syntax error at column 9: range() expects an int or float for 'stop', found string 'a'");
  EXPECT_NE(word.hint.find("range(0,10,2)"), std::string::npos);
  EXPECT_NE(parse_error("a=range(1,x)")
                .message.find("column 11: range() expects an int or float for 'stop', found "
                              "string 'x'"),
            std::string::npos);
  EXPECT_NE(parse_error("a=range(true)").message.find("found bool 'true'"), std::string::npos);
  EXPECT_NE(parse_error("a=range([1])").message.find("found a list"), std::string::npos);
  EXPECT_NE(parse_error("a=range(1,2,0)").message.find("column 13: range() step must not be zero"), std::string::npos);
  EXPECT_NE(parse_error("a=range(0,1,0.0)").message.find("range() step must not be zero"), std::string::npos);
  EXPECT_NE(parse_error("a=range()").message.find("column 3: range() needs at least a stop value"), std::string::npos);
  EXPECT_NE(parse_error("a=range(stop=3)").message.find("range() is missing 'start'"), std::string::npos);
  EXPECT_NE(parse_error("a=range(1,2,3,4)").message.find("column 15: range() takes at most 3 arguments"),
            std::string::npos);
  EXPECT_NE(parse_error("a=range(1,x=2)").message.find("range() has no argument named 'x'"), std::string::npos);
  EXPECT_NE(parse_error("a=range(1,start=2)").message.find("range() got two values for 'start'"), std::string::npos);
  EXPECT_NE(parse_error("a=range(0,inf)").message.find("range() bounds and step must be finite, found inf"),
            std::string::npos);
  EXPECT_NE(parse_error("a=range(1,step=2,3)").message.find("column 18: positional argument follows keyword"),
            std::string::npos);
  EXPECT_NE(parse_error("a=range(start=1,start=2)").message.find("range() got argument 'start' twice"),
            std::string::npos);
}

TEST(OverrideFunctionError, ChoiceArguments) {
  EXPECT_NE(parse_error("a=choice()").message.find("column 3: choice() needs at least one value"), std::string::npos);
  EXPECT_NE(parse_error("a=choice(x=1)").message.find("choice() takes no named arguments, found 'x='"),
            std::string::npos);
}

TEST(OverrideFunctionError, GlobArguments) {
  EXPECT_NE(parse_error("m=glob()").message.find("glob() needs at least one pattern"), std::string::npos);
  EXPECT_NE(parse_error("m=glob([])").message.find("glob() needs at least one include pattern, found []"),
            std::string::npos);
  EXPECT_NE(parse_error("m=glob(null)").message.find("glob() include patterns must be strings, found a null"),
            std::string::npos);
  EXPECT_NE(parse_error("m=glob(*,[{a: 1}])").message.find("glob() exclude patterns must be strings, found a map"),
            std::string::npos);
  EXPECT_NE(parse_error("m=glob(a,b,c)").message.find("glob() takes at most 2 arguments"), std::string::npos);
  EXPECT_NE(parse_error("m=glob(*,only=x)").message.find("glob() has no argument named 'only'"), std::string::npos);
}

TEST(OverrideFunctionError, UnknownAndUnsupportedFunctions) {
  Diagnostic unknown = parse_error("a=foo(1)");
  EXPECT_EQ(unknown.message, "syntax error at column 3: unknown function foo()");
  EXPECT_NE(unknown.hint.find("choice(), range() and glob()"), std::string::npos);
  EXPECT_NE(unknown.hint.find("\\("), std::string::npos);
  EXPECT_NE(parse_error("a=interval(0,1)").message.find("Hydra's function interval() is not supported by kiln"),
            std::string::npos);
  EXPECT_NE(parse_error("a=shuffle(1,2)").message.find("shuffle() is not supported"), std::string::npos);
  EXPECT_NE(parse_error("a=str(1)").message.find("str() is not supported"), std::string::npos);
  // Escaped or quoted, the same text is a plain string.
  EXPECT_EQ(string_of(R"(foo\(1\))"), "foo(1)");
  EXPECT_EQ(string_of("'foo(1)'"), "foo(1)");
}

// --- parse_overrides, parse_override_value ---

TEST(ParseOverrides, IndexesFromOne) {
  auto overrides = parse_overrides({"a=1", "+b=2", "~c"});
  ASSERT_EQ(overrides.size(), 3u);
  EXPECT_EQ(overrides[0].index, 1);
  EXPECT_EQ(overrides[2].index, 3);
  EXPECT_EQ(overrides[1].source.str(), "override #2 '+b=2'");
}

TEST(ParseOverrides, ReportsEveryBadOverrideTogether) {
  try {
    parse_overrides({"a=1", "b=[", "c", "d=ok"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.diagnostics()[0].source.str(), "override #2 'b=['");
    EXPECT_EQ(e.diagnostics()[1].source.str(), "override #3 'c'");
    EXPECT_NE(std::string(e.what()).find("2 config errors"), std::string::npos);
  }
}

TEST(ParseOverrideValue, OneElement) {
  Source source = Source::generated("oc.decode");
  Node n = parse_override_value("[1, 'a', {b: 2.5}]", source);
  EXPECT_EQ(n.at(0), Node::integer(1));
  EXPECT_EQ(n.at(1), Node::string("a"));
  EXPECT_EQ(*n.at(2).find("b"), Node::floating(2.5));
  EXPECT_EQ(n.at(2).find("b")->source().str(), "oc.decode");
  EXPECT_EQ(parse_override_value("", source), Node::string(""));
  EXPECT_EQ(parse_override_value("  ", source), Node::string(""));
}

TEST(ParseOverrideValue, KeepsBlanksAroundAnUnquotedStringAsOmegaConfsDecode) {
  Source source = Source::generated("oc.decode");
  EXPECT_EQ(parse_override_value(" 12 ", source), Node::string(" 12 "));
  EXPECT_EQ(parse_override_value("a ", source), Node::string("a "));
  EXPECT_EQ(parse_override_value(" true", source), Node::string(" true"));
  EXPECT_EQ(parse_override_value(" ${x} ", source), Node::string(" ${x} "));
  EXPECT_EQ(parse_override_value("12", source), Node::integer(12));
  // Inside containers blanks are trimmed as everywhere else.
  EXPECT_EQ(parse_override_value("[ a , b ]", source), list_of({Node::string("a"), Node::string("b")}));
  EXPECT_EQ(parse_override_value(" 'q' ", source), Node::string("q"));
}

TEST(ParseOverrideValue, RejectsSweepsAndReportsColumnsInTheValue) {
  Source source = Source::generated("oc.decode");
  try {
    parse_override_value("1,2", source);
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    const Diagnostic& d = e.diagnostics()[0];
    EXPECT_EQ(d.source.str(), "oc.decode");
    EXPECT_NE(d.message.find("cannot parse '1,2' as a value: syntax error at column 2: a comma-separated list"),
              std::string::npos);
    EXPECT_NE(d.hint.find("[a,b]"), std::string::npos);
  }
  try {
    parse_override_value("range(3)", source);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(e.diagnostics()[0].message.find("a sweep is not allowed here"), std::string::npos);
  }
  try {
    parse_override_value("[1", source);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(e.diagnostics()[0].message.find("column 3: expected ',' or ']'"), std::string::npos);
  }
}

// --- reject_sweeps ---

TEST(RejectSweeps, NothingToRejectWithoutSweeps) {
  EXPECT_NO_THROW(reject_sweeps(parse_overrides({"a=1", "b=[1,2]", "c='1,2'"})));
}

TEST(RejectSweeps, SimpleSweepIsAmbiguousWithHydrasSuggestions) {
  try {
    reject_sweeps(parse_overrides({"x=0", "a=1,2"}));
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    const Diagnostic& d = e.diagnostics()[0];
    EXPECT_EQ(d.message, "Ambiguous value for argument 'a=1,2'");
    EXPECT_EQ(d.source.str(), "override #2 'a=1,2'");
    EXPECT_EQ(d.key, "a");
    EXPECT_NE(d.hint.find("1. To use it as a list, use a=[1,2]"), std::string::npos);
    EXPECT_NE(d.hint.find("2. To use it as string, quote the value: a=\\'1,2\\'"), std::string::npos);
    EXPECT_NE(d.hint.find("3. To sweep over it, add --multirun (-m) to your command line"), std::string::npos);
  }
}

TEST(RejectSweeps, FunctionSweepsRequireMultirun) {
  try {
    reject_sweeps(parse_overrides({"a=range(3)", "+b=choice(x,y)", "m=glob(*)", "c=1,2"}));
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 4u);
    EXPECT_EQ(e.diagnostics()[0].message, "Sweep parameter 'a=range(3)' requires --multirun");
    EXPECT_EQ(e.diagnostics()[1].message, "Sweep parameter '+b=choice(x,y)' requires --multirun");
    EXPECT_EQ(e.diagnostics()[2].message, "Sweep parameter 'm=glob(*)' requires --multirun");
    EXPECT_EQ(e.diagnostics()[3].message, "Ambiguous value for argument 'c=1,2'");
  }
}

// --- format_override_value ---

TEST(FormatOverrideValue, Scalars) {
  EXPECT_EQ(format_override_value(Node::null()), "null");
  EXPECT_EQ(format_override_value(Node::boolean(true)), "true");
  EXPECT_EQ(format_override_value(Node::integer(-3)), "-3");
  EXPECT_EQ(format_override_value(Node::floating(1.0)), "1.0");
  EXPECT_EQ(format_override_value(Node::floating(0.25)), "0.25");
  EXPECT_EQ(format_override_value(Node::floating(1e-5)), "1e-05");
  EXPECT_EQ(format_override_value(Node::floating(INFINITY)), "inf");
  EXPECT_EQ(format_override_value(Node::floating(-INFINITY)), "-inf");
  EXPECT_EQ(format_override_value(Node::floating(NAN)), "nan");
  EXPECT_EQ(format_override_value(Node::missing()), "???");
  EXPECT_EQ(format_override_value(Node::string("cnn")), "cnn");
  EXPECT_EQ(format_override_value(Node::string("1")), "'1'");
  EXPECT_EQ(format_override_value(Node::string("true")), "'true'");
  EXPECT_EQ(format_override_value(Node::string("a b,c")), "'a b,c'");
  EXPECT_EQ(format_override_value(Node::string("it's")), R"('it\'s')");
  EXPECT_EQ(format_override_value(Node::string(R"(C:\dir\)")), R"('C:\dir\\')");
  EXPECT_EQ(format_override_value(Node::string("")), "''");
}

TEST(FormatOverrideValue, Containers) {
  EXPECT_EQ(format_override_value(list_of({Node::integer(1), Node::string("a b")})), "[1,'a b']");
  Node m = Node::map();
  m.set("a", Node::integer(1));
  m.set("k:v", list_of({}));
  EXPECT_EQ(format_override_value(m), "{a:1,'k:v':[]}");
}

TEST(FormatOverrideValue, ReadsBackEqual) {
  Node m = Node::map();
  m.set("x y", Node::string("${a.b}"));
  m.set("1", Node::floating(0.1));
  const std::vector<Node> values = {Node::string("1"),
                                    Node::string("null"),
                                    Node::string(" lead"),
                                    Node::string("trail "),
                                    Node::string("a,b"),
                                    Node::string("it's \"x\""),
                                    Node::string(R"(\'\\)"),
                                    Node::string(R"(end\\)"),
                                    Node::string("${x}"),
                                    Node::string("f(x)"),
                                    Node::string("[1]"),
                                    Node::string("a:b"),
                                    Node::string("é"),
                                    Node::string("tab\there"),
                                    Node::floating(1e300),
                                    Node::floating(-0.0),
                                    Node::floating(123456789.125),
                                    Node::integer(std::numeric_limits<std::int64_t>::min()),
                                    m,
                                    list_of({m, Node::null(), Node::missing()})};
  for (const auto& value : values) {
    std::string text = format_override_value(value);
    Node back = parse_override_value(text, {});
    EXPECT_EQ(back, value) << text;
    EXPECT_EQ(back.kind(), value.kind()) << text;
  }
}

}  // namespace
}  // namespace kiln::config

namespace kiln::config {
namespace {

// Found by fuzz/override_fuzz: a value that is not UTF-8 could not be
// written to the run's config.yaml and read back.
TEST(OverrideParse, RefusesTextThatIsNotUtf8) {
  try {
    parse_override("a=\xA5\xCE", 3);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics()[0].source.str(), "override #3 'a=\xA5\xCE'");
    EXPECT_NE(e.diagnostics()[0].message.find("byte 3 is not valid UTF-8"), std::string::npos);
  }
  EXPECT_EQ(parse_override("a=caf\xC3\xA9", 1).value->as_string(), "caf\xC3\xA9");
}

}  // namespace
}  // namespace kiln::config
