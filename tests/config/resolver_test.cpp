// Resolver calls: argument typing (checked against OmegaConf 2.2 with an
// echo resolver), the registry, and each built-in resolver.
#include "kiln/config/resolver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "kiln/config/error.h"
#include "kiln/config/resolve.h"
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

// test.echo returns its arguments as a list, so tests can see their types.
class ResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_resolver(
        "test.echo",
        [](const std::vector<Node>& args, const ResolverContext&) {
          Node list = Node::list();
          for (const auto& arg : args) list.push_back(arg);
          return list;
        },
        true);
  }
  // The echoed arguments of `v: <value>` (plus `extra` lines).
  static Node echo(std::string_view value, std::string_view extra = "") {
    return at(resolved(std::string("v: ") + std::string(value) + "\n" + std::string(extra)), "v");
  }
};

// --- argument typing ---

TEST_F(ResolverTest, NoArguments) {
  EXPECT_EQ(echo("${test.echo:}").size(), 0u);
  EXPECT_EQ(echo("'${test.echo: }'").size(), 0u);
}

TEST_F(ResolverTest, ArgumentsAreSplitOnCommasAndTrimmed) {
  Node v = echo("'${test.echo: a , b c  ,d}'");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v.at(0), Node::string("a"));
  EXPECT_EQ(v.at(1), Node::string("b c"));
  EXPECT_EQ(v.at(2), Node::string("d"));
}

TEST_F(ResolverTest, IntegersAsOmegaConfTypesThem) {
  Node v = echo("'${test.echo:1,-2,+3,1_000,0x10,010,-0}'");
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v.at(0), Node::integer(1));
  EXPECT_EQ(v.at(1), Node::integer(-2));
  EXPECT_EQ(v.at(2), Node::integer(3));
  EXPECT_EQ(v.at(3), Node::integer(1000));
  EXPECT_EQ(v.at(4), Node::string("0x10"));
  EXPECT_EQ(v.at(5), Node::string("010"));
  EXPECT_EQ(v.at(6), Node::integer(0));
}

TEST_F(ResolverTest, FloatsAsOmegaConfTypesThem) {
  Node v = echo("'${test.echo:1.5,1e3,-1.5e-3,.5,5.,inf,-inf,NaN,1_0.5,.e5,1__0}'");
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v.at(0), Node::floating(1.5));
  EXPECT_EQ(v.at(1), Node::floating(1000.0));
  EXPECT_EQ(v.at(2), Node::floating(-0.0015));
  EXPECT_EQ(v.at(3), Node::floating(0.5));
  EXPECT_EQ(v.at(4), Node::floating(5.0));
  EXPECT_EQ(v.at(5), Node::floating(INFINITY));
  EXPECT_EQ(v.at(6), Node::floating(-INFINITY));
  EXPECT_TRUE(v.at(7).kind() == Kind::kFloat && std::isnan(v.at(7).as_float()));
  EXPECT_EQ(v.at(8), Node::floating(10.5));
  EXPECT_EQ(v.at(9), Node::string(".e5"));
  EXPECT_EQ(v.at(10), Node::string("1__0"));
}

TEST_F(ResolverTest, BoolsAndNullAnyCaseButNotYaml11Words) {
  Node v = echo("'${test.echo:true,False,TRUE,yes,null,NULL,none}'");
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v.at(0), Node::boolean(true));
  EXPECT_EQ(v.at(1), Node::boolean(false));
  EXPECT_EQ(v.at(2), Node::boolean(true));
  EXPECT_EQ(v.at(3), Node::string("yes"));
  EXPECT_TRUE(v.at(4).is_null());
  EXPECT_TRUE(v.at(5).is_null());
  EXPECT_EQ(v.at(6), Node::string("none"));
}

TEST_F(ResolverTest, QuotedAndEmptyArguments) {
  Node v = echo(R"('${test.echo:"a,b",''x y'',"",a,,b}')");
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v.at(0), Node::string("a,b"));
  EXPECT_EQ(v.at(1), Node::string("x y"));
  EXPECT_EQ(v.at(2), Node::string(""));
  EXPECT_EQ(v.at(3), Node::string("a"));
  EXPECT_EQ(v.at(4), Node::string(""));
  EXPECT_EQ(v.at(5), Node::string("b"));
  EXPECT_EQ(echo("'${test.echo:,}'").size(), 2u);
}

TEST_F(ResolverTest, QuotedArgumentsAreAlwaysStrings) {
  Node v = echo(R"('${test.echo:"1","null","${x}","x${x}","\${x}","a\"b",''a\''b'',"a\\"}')", "x: 3\n");
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v.at(0), Node::string("1"));
  EXPECT_EQ(v.at(1), Node::string("null"));
  EXPECT_EQ(v.at(2), Node::string("3"));
  EXPECT_EQ(v.at(3), Node::string("x3"));
  EXPECT_EQ(v.at(4), Node::string("${x}"));
  EXPECT_EQ(v.at(5), Node::string("a\"b"));
  EXPECT_EQ(v.at(6), Node::string("a'b"));
  EXPECT_EQ(v.at(7), Node::string("a\\"));
}

TEST_F(ResolverTest, ListAndMapArguments) {
  Node v = echo("'${test.echo:[1,2,[a]],{a:1,b:[2], c d: x y},[],{},[a,,b]}'");
  ASSERT_EQ(v.size(), 5u);
  ASSERT_TRUE(v.at(0).is_list());
  EXPECT_EQ(v.at(0).at(2).at(0), Node::string("a"));
  ASSERT_TRUE(v.at(1).is_map());
  EXPECT_EQ(*v.at(1).find("a"), Node::integer(1));
  EXPECT_EQ(v.at(1).find("b")->at(0), Node::integer(2));
  EXPECT_EQ(*v.at(1).find("c d"), Node::string("x y"));
  EXPECT_TRUE(v.at(2).is_list() && v.at(2).empty());
  EXPECT_TRUE(v.at(3).is_map() && v.at(3).empty());
  EXPECT_EQ(v.at(4).at(1), Node::string(""));
}

TEST_F(ResolverTest, InterpolatedArguments) {
  Node v = echo("'${test.echo:${x},${y},a${x}b,${x}${x}, ${x} ,{k: ${x}}}'", "x: 3\ny: [1]\n");
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v.at(0), Node::integer(3));  // exactly one interpolation keeps its type
  EXPECT_TRUE(v.at(1).is_list());
  EXPECT_EQ(v.at(2), Node::string("a3b"));
  EXPECT_EQ(v.at(3), Node::string("33"));
  EXPECT_EQ(v.at(4), Node::integer(3));
  EXPECT_EQ(*v.at(5).find("k"), Node::integer(3));
}

TEST_F(ResolverTest, UnquotedEscapesAndSpecialCharacters) {
  Node v = echo(R"('${test.echo:a\,b,a\ b,a\\b,a\b,a\:b, \ x,a:b,/p/t.x,-,$,%,*,@,?,|}')");
  ASSERT_EQ(v.size(), 15u);
  EXPECT_EQ(v.at(0), Node::string("a,b"));
  EXPECT_EQ(v.at(1), Node::string("a b"));
  EXPECT_EQ(v.at(2), Node::string("a\\b"));
  EXPECT_EQ(v.at(3), Node::string("a\\b"));
  EXPECT_EQ(v.at(4), Node::string("a:b"));
  EXPECT_EQ(v.at(5), Node::string(" x"));  // an escaped space is kept
  EXPECT_EQ(v.at(6), Node::string("a:b"));
  EXPECT_EQ(v.at(7), Node::string("/p/t.x"));
  EXPECT_EQ(v.at(8), Node::string("-"));
}

TEST_F(ResolverTest, IntegerBeyond64BitsStaysText) {
  // kiln rule: OmegaConf has Python's unbounded ints; kiln keeps the text.
  EXPECT_EQ(echo("'${test.echo:9223372036854775808}'").at(0), Node::string("9223372036854775808"));
}

TEST_F(ResolverTest, ArgumentSyntaxErrors) {
  Caught c = resolve_error(
      "a: '${test.echo:a=b}'\nb: '${test.echo:\"a\" b}'\nc: '${test.echo:{a:}}'\nd: '${test.echo:[1}'\n"
      "e: '${test.echo:(1}'\n");
  ASSERT_EQ(c.diagnostics.size(), 5u);
  EXPECT_NE(c.diagnostics[0].message.find("unexpected '=' in an unquoted argument; quote the argument"),
            std::string::npos);
  EXPECT_NE(c.diagnostics[1].message.find("unexpected 'b' after a quoted string"), std::string::npos);
  EXPECT_NE(c.diagnostics[2].message.find("expected a value after 'a:'"), std::string::npos);
  EXPECT_NE(c.diagnostics[3].message.find("unexpected '}'"), std::string::npos) << c.diagnostics[3].message;
  EXPECT_NE(c.diagnostics[4].message.find("is never closed"), std::string::npos);
}

TEST_F(ResolverTest, ResolverNameFromAnInterpolation) {
  Node v = echo("'${${n}:1}'", "n: test.echo\n");
  EXPECT_EQ(v.at(0), Node::integer(1));
}

// --- registry ---

TEST_F(ResolverTest, RegistryRejectsDuplicatesUnlessReplacing) {
  auto fn = [](const std::vector<Node>&, const ResolverContext&) { return Node::integer(1); };
  register_resolver("test.dup", fn, true);
  EXPECT_THROW(register_resolver("test.dup", fn), kiln::Error);
  try {
    register_resolver("test.dup", fn);
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'test.dup' is already registered"), std::string::npos);
  }
  register_resolver(
      "test.dup", [](const std::vector<Node>&, const ResolverContext&) { return Node::integer(2); }, true);
  EXPECT_EQ(at(resolved("v: ${test.dup:}\n"), "v"), Node::integer(2));
  EXPECT_TRUE(unregister_resolver("test.dup"));
  EXPECT_FALSE(has_resolver("test.dup"));
  EXPECT_FALSE(unregister_resolver("test.dup"));
}

TEST_F(ResolverTest, RegistryRejectsInvalidNames) {
  auto fn = [](const std::vector<Node>&, const ResolverContext&) { return Node(); };
  EXPECT_THROW(register_resolver("", fn), kiln::Error);
  EXPECT_THROW(register_resolver("1abc", fn), kiln::Error);
  EXPECT_THROW(register_resolver("a..b", fn), kiln::Error);
  EXPECT_THROW(register_resolver("a b", fn), kiln::Error);
  EXPECT_THROW(register_resolver("ok.name", ResolverFn{}), kiln::Error);
}

TEST_F(ResolverTest, BuiltinsAreRegisteredAndNamesSorted) {
  auto names = resolver_names();
  for (const char* name : {"calc", "env", "now", "oc.decode", "oc.env", "oc.select"}) {
    EXPECT_TRUE(has_resolver(name)) << name;
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST_F(ResolverTest, UnknownResolverSuggestsAName) {
  Caught c = resolve_error("v: ${oc.evn:HOME}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "v");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:1:4");
  EXPECT_EQ(c.diagnostics[0].message, "unknown resolver 'oc.evn' in ${oc.evn:HOME}");
  EXPECT_EQ(c.diagnostics[0].hint, "did you mean 'oc.env'?");
}

TEST_F(ResolverTest, UnknownResolverWithNothingCloseListsTheKnownOnes) {
  Caught c = resolve_error("v: ${zzzzzzzz:1}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_NE(c.diagnostics[0].hint.find("known resolvers: "), std::string::npos);
  EXPECT_NE(c.diagnostics[0].hint.find("oc.env"), std::string::npos);
}

TEST_F(ResolverTest, ResolverFailuresCarryTheCallsKeyAndSource) {
  register_resolver(
      "test.fail",
      [](const std::vector<Node>&, const ResolverContext& ctx) -> Node { ctx.fail("bad input", "fix it"); }, true);
  register_resolver(
      "test.boom", [](const std::vector<Node>&, const ResolverContext&) -> Node { throw std::runtime_error("boom"); },
      true);
  Caught c = resolve_error("a:\n  b: ${test.fail:}\nc: x${test.boom:1}\n");
  ASSERT_EQ(c.diagnostics.size(), 2u);
  EXPECT_EQ(c.diagnostics[0].key, "a.b");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:2:6");
  EXPECT_EQ(c.diagnostics[0].message, "bad input");
  EXPECT_EQ(c.diagnostics[0].hint, "fix it");
  EXPECT_EQ(c.diagnostics[1].key, "c");
  EXPECT_EQ(c.diagnostics[1].message, "resolver 'test.boom' failed in ${test.boom:1}: boom");
}

TEST_F(ResolverTest, ResolverResultsAreFinal) {
  register_resolver(
      "test.raw", [](const std::vector<Node>&, const ResolverContext&) { return Node::string("${y}"); }, true);
  Node r = resolved("y: 7\nv: ${test.raw:}\nw: a${test.raw:}\n");
  EXPECT_EQ(at(r, "v"), Node::string("${y}"));
  EXPECT_EQ(at(r, "w"), Node::string("a${y}"));
}

TEST_F(ResolverTest, ResolverSeesItsKeyAndCanSelect) {
  register_resolver(
      "test.where",
      [](const std::vector<Node>&, const ResolverContext& ctx) {
        auto sibling = ctx.lookup->select(".s");
        return Node::string(ctx.key_text() + "@" + ctx.source.str() + "=" + (sibling ? sibling->scalar_text() : "-"));
      },
      true);
  Node r = resolved("m:\n  s: ${t}\n  l: [0, '${test.where:}']\nt: 5\n");
  EXPECT_EQ(at(r, "m.l.1"), Node::string("m.l[1]@cfg.yaml:3:10=-"));
  Node r2 = resolved("m:\n  s: ${t}\n  w: ${test.where:}\nt: 5\n");
  EXPECT_EQ(at(r2, "m.w"), Node::string("m.w@cfg.yaml:3:6=5"));
}

TEST_F(ResolverTest, WhitespaceAroundTheResolverName) {
  Node v = echo("'${ test.echo :1}'");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v.at(0), Node::integer(1));
}

TEST_F(ResolverTest, LookupFailuresAreReportedOnceEvenIfTheResolverCatchesThem) {
  register_resolver(
      "test.swallow",
      [](const std::vector<Node>& args, const ResolverContext& ctx) {
        try {
          return ctx.lookup->select(args[0].as_string()).value_or(Node::string("absent"));
        } catch (const ConfigError&) {
          return Node::string("swallowed");
        }
      },
      true);
  Caught c = resolve_error("x: ${nope}\nv: ${test.swallow:x}\nw: ${test.swallow:y}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "x");
  EXPECT_EQ(c.diagnostics[0].message, "${nope} refers to 'nope', which does not exist");
}

TEST_F(ResolverTest, ResultWithoutSourceGetsTheCallsSource) {
  Node r = resolved("v: ${test.echo:1}\n");
  EXPECT_EQ(at(r, "v").source().str(), "cfg.yaml:1:4");
  EXPECT_EQ(at(r, "v").at(0).source().str(), "cfg.yaml:1:4");
}

// --- oc.env / env ---

TEST_F(ResolverTest, OcEnvReadsTheEnvironmentAsAString) {
  ::setenv("KILN_TEST_ENV_SET", "12", 1);
  Node r = resolved(
      "a: ${oc.env:KILN_TEST_ENV_SET}\nb: ${env:KILN_TEST_ENV_SET}\nc: ${oc.decode:${oc.env:KILN_TEST_ENV_SET}}\n");
  EXPECT_EQ(at(r, "a"), Node::string("12"));
  EXPECT_EQ(at(r, "b"), Node::string("12"));
  EXPECT_EQ(at(r, "c"), Node::integer(12));
}

TEST_F(ResolverTest, OcEnvDefaults) {
  ::unsetenv("KILN_TEST_ENV_UNSET");
  Node r = resolved(
      "a: ${oc.env:KILN_TEST_ENV_UNSET,abc}\nb: ${oc.env:KILN_TEST_ENV_UNSET,5}\nc: "
      "${oc.env:KILN_TEST_ENV_UNSET,null}\n"
      "d: '${oc.env:KILN_TEST_ENV_UNSET,[1,2]}'\ne: '${oc.env:KILN_TEST_ENV_UNSET,\"\"}'\n"
      "f: ${env:KILN_TEST_ENV_UNSET,x}\n");
  EXPECT_EQ(at(r, "a"), Node::string("abc"));
  EXPECT_EQ(at(r, "b"), Node::string("5"));  // OmegaConf 2.2 turns defaults into strings
  EXPECT_TRUE(at(r, "c").is_null());
  EXPECT_EQ(at(r, "d"), Node::string("[1, 2]"));
  EXPECT_EQ(at(r, "e"), Node::string(""));
  EXPECT_EQ(at(r, "f"), Node::string("x"));
}

TEST_F(ResolverTest, OcEnvUnsetWithoutDefaultNamesTheVariableAndKey) {
  ::unsetenv("KILN_TEST_ENV_UNSET");
  Caught c = resolve_error("logger:\n  key: ${oc.env:KILN_TEST_ENV_UNSET}\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "logger.key");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:2:8");
  EXPECT_EQ(c.diagnostics[0].message, "environment variable 'KILN_TEST_ENV_UNSET' is not set");
  EXPECT_NE(c.diagnostics[0].hint.find("${oc.env:KILN_TEST_ENV_UNSET,default}"), std::string::npos);
}

TEST_F(ResolverTest, OcEnvArgumentErrors) {
  Caught c = resolve_error("a: ${oc.env:}\nb: ${oc.env:A,B,C}\nc: ${oc.env:5}\n");
  ASSERT_EQ(c.diagnostics.size(), 3u);
  EXPECT_EQ(c.diagnostics[0].message, "oc.env takes 1 or 2 arguments, got 0");
  EXPECT_EQ(c.diagnostics[1].message, "oc.env takes 1 or 2 arguments, got 3");
  EXPECT_EQ(c.diagnostics[2].message, "oc.env needs an environment variable name, got int 5");
}

// --- now ---

TEST_F(ResolverTest, NowFormatsTheGivenTimeInLocalTime) {
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 2;
  tm.tm_mday = 5;
  tm.tm_hour = 6;
  tm.tm_min = 7;
  tm.tm_sec = 8;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::microseconds(123456);
  Node r = resolved("d: ${now:%Y-%m-%d}\nt: ${now:%H-%M-%S}\nf: '${now:%Y-%m-%d_%H:%M:%S.%f}'\np: ${now:100%%}\n",
                    ResolveOptions{}.set_now(when));
  EXPECT_EQ(at(r, "d"), Node::string("2024-03-05"));
  EXPECT_EQ(at(r, "t"), Node::string("06-07-08"));
  EXPECT_EQ(at(r, "f"), Node::string("2024-03-05_06:07:08.123456"));
  EXPECT_EQ(at(r, "p"), Node::string("100%"));
  if (old_tz)
    ::setenv("TZ", saved.c_str(), 1);
  else
    ::unsetenv("TZ");
  ::tzset();
}

TEST_F(ResolverTest, NowIsOneTimeForTheWholeProcess) {
  Node a = resolved("x: ${now:%H-%M-%S.%f}\ny: ${now:%H-%M-%S.%f}\n");
  Node b = resolved("z: ${now:%H-%M-%S.%f}\n");
  EXPECT_EQ(at(a, "x"), at(a, "y"));
  EXPECT_EQ(at(a, "x"), at(b, "z"));
}

TEST_F(ResolverTest, NowNeedsAFormat) {
  Caught c = resolve_error("a: ${now:}\nb: ${now:2024}\n");
  ASSERT_EQ(c.diagnostics.size(), 2u);
  EXPECT_EQ(c.diagnostics[0].message, "now takes 1 argument, got 0");
  EXPECT_EQ(c.diagnostics[1].message, "now needs a strftime format string, got int 2024");
}

// --- oc.select ---

TEST_F(ResolverTest, OcSelectDefaults) {
  Node r = resolved(
      "x: 1\nm: ???\nn: null\ni: ${x}\nsub:\n  s: 2\n  rel: ${oc.select:.s,0}\n"
      "a: ${oc.select:x,3}\nb: ${oc.select:y,3}\nc: ${oc.select:m,3}\nd: ${oc.select:y}\ne: ${oc.select:n,3}\n"
      "f: ${oc.select:i,3}\ng: ${oc.select:m.q,3}\nh: '${oc.select:sub}'\n",
      ResolveOptions{}.set_allow_missing(true));
  EXPECT_EQ(at(r, "a"), Node::integer(1));
  EXPECT_EQ(at(r, "b"), Node::integer(3));
  EXPECT_EQ(at(r, "c"), Node::integer(3));
  EXPECT_TRUE(at(r, "d").is_null());
  EXPECT_TRUE(at(r, "e").is_null());  // null is a value, not absence
  EXPECT_EQ(at(r, "f"), Node::integer(1));
  EXPECT_EQ(at(r, "g"), Node::integer(3));
  EXPECT_EQ(at(r, "sub.rel"), Node::integer(2));
  EXPECT_EQ(at(r, "h.s"), Node::integer(2));
}

TEST_F(ResolverTest, OcSelectOfABrokenValueReportsIt) {
  Caught c = resolve_error("x: ${nope}\nv: ${oc.select:x,3}\nw: ${oc.select:a..b}\n");
  ASSERT_EQ(c.diagnostics.size(), 2u);
  EXPECT_EQ(c.diagnostics[0].key, "x");
  EXPECT_EQ(c.diagnostics[1].message, "oc.select: 'a..b' is not a key");
}

// --- oc.decode ---

TEST_F(ResolverTest, OcDecodeParsesAValue) {
  Node r = resolved(
      "x: 3\ns: '2.5'\na: '${oc.decode:\"[1, a, ${x}]\"}'\nb: '${oc.decode:\"{k: 1}\"}'\nc: ${oc.decode:null}\n"
      "d: ${oc.decode:${s}}\ne: '${oc.decode:\"''${x}''\"}'\n");
  ASSERT_TRUE(at(r, "a").is_list());
  EXPECT_EQ(at(r, "a").at(0), Node::integer(1));
  EXPECT_EQ(at(r, "a").at(1), Node::string("a"));
  EXPECT_EQ(at(r, "a").at(2), Node::integer(3));
  EXPECT_EQ(at(r, "b.k"), Node::integer(1));
  EXPECT_TRUE(at(r, "c").is_null());
  EXPECT_EQ(at(r, "d"), Node::floating(2.5));
}

TEST_F(ResolverTest, OcDecodeErrors) {
  Caught c = resolve_error("a: ${oc.decode:1}\nb: '${oc.decode:\"[1,\"}'\n");
  ASSERT_GE(c.diagnostics.size(), 2u);
  EXPECT_EQ(c.diagnostics[0].key, "a");
  EXPECT_EQ(c.diagnostics[0].message, "oc.decode takes a string (or null), got int 1");
  EXPECT_EQ(c.diagnostics[1].key, "b");
  EXPECT_NE(c.diagnostics[1].message.find("oc.decode: cannot parse '[1,'"), std::string::npos)
      << c.diagnostics[1].message;
}

// --- calc ---

TEST_F(ResolverTest, CalcIntegerArithmetic) {
  Node r = resolved(
      "model:\n  width: 64\n"
      "a: '${calc:2 * ${model.width} + 1}'\nb: '${calc:10 - 2 - 3}'\nc: '${calc:(1 + 2) * 3}'\nd: '${calc:7 // 2}'\n"
      "e: '${calc:-7 // 2}'\nf: '${calc:-7 % 3}'\ng: '${calc:7 % -3}'\nh: '${calc:2 ** 10}'\ni: '${calc:-2 ** 2}'\n"
      "j: '${calc:2 ** 3 ** 2}'\nk: '${calc:3}'\nl: '${calc:${model.width}}'\nm: '${calc:--3}'\n");
  EXPECT_EQ(at(r, "a"), Node::integer(129));
  EXPECT_EQ(at(r, "b"), Node::integer(5));
  EXPECT_EQ(at(r, "c"), Node::integer(9));
  EXPECT_EQ(at(r, "d"), Node::integer(3));
  EXPECT_EQ(at(r, "e"), Node::integer(-4));
  EXPECT_EQ(at(r, "f"), Node::integer(2));
  EXPECT_EQ(at(r, "g"), Node::integer(-2));
  EXPECT_EQ(at(r, "h"), Node::integer(1024));
  EXPECT_EQ(at(r, "i"), Node::integer(-4));
  EXPECT_EQ(at(r, "j"), Node::integer(512));
  EXPECT_EQ(at(r, "k"), Node::integer(3));
  EXPECT_EQ(at(r, "l"), Node::integer(64));
  EXPECT_EQ(at(r, "m"), Node::integer(3));
}

TEST_F(ResolverTest, CalcFloatArithmetic) {
  Node r = resolved(
      "lr: 1e-5\na: '${calc:7 / 2}'\nb: '${calc:4 / 2}'\nc: '${calc:1.5 * 2}'\nd: '${calc:7.5 // 2}'\n"
      "e: '${calc:2 ** -1}'\nf: '${calc:${lr} * 2}'\ng: '${calc:-7.5 % 2}'\n");
  EXPECT_EQ(at(r, "a"), Node::floating(3.5));
  EXPECT_EQ(at(r, "b"), Node::floating(2.0));  // '/' always gives a float, as in Python
  EXPECT_EQ(at(r, "c"), Node::floating(3.0));
  EXPECT_EQ(at(r, "d"), Node::floating(3.0));
  EXPECT_EQ(at(r, "e"), Node::floating(0.5));
  EXPECT_EQ(at(r, "f"), Node::floating(2e-5));
  EXPECT_EQ(at(r, "g"), Node::floating(0.5));
}

TEST_F(ResolverTest, CalcFunctions) {
  Node r = resolved(
      "a: '${calc:max(1, 2.5, 2)}'\nb: '${calc:min(3, 1)}'\nc: '${calc:abs(-3)}'\nd: '${calc:round(2.5)}'\n"
      "e: '${calc:round(3.5)}'\nf: '${calc:round(2.675, 2)}'\ng: '${calc:floor(-1.5)}'\nh: '${calc:ceil(1.2)}'\n"
      "i: '${calc:abs(-1.5)}'\nj: '${calc:round(1234, -2)}'\nk: '${calc:2 * max(3, 4) + 1}'\n");
  EXPECT_EQ(at(r, "a"), Node::floating(2.5));
  EXPECT_EQ(at(r, "b"), Node::integer(1));
  EXPECT_EQ(at(r, "c"), Node::integer(3));
  EXPECT_EQ(at(r, "d"), Node::integer(2));  // half to even, as Python
  EXPECT_EQ(at(r, "e"), Node::integer(4));
  EXPECT_EQ(at(r, "f"), Node::floating(2.67));
  EXPECT_EQ(at(r, "g"), Node::integer(-2));
  EXPECT_EQ(at(r, "h"), Node::integer(2));
  EXPECT_EQ(at(r, "i"), Node::floating(1.5));
  EXPECT_EQ(at(r, "j"), Node::integer(1200));
  EXPECT_EQ(at(r, "k"), Node::integer(9));
}

TEST_F(ResolverTest, CalcDivisionByZeroShowsExpressionAndColumn) {
  Caught c = resolve_error("d: 2\nv: '${calc:10 / (${d} - 2)}'\n");
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].key, "v");
  EXPECT_EQ(c.diagnostics[0].source.str(), "cfg.yaml:2:4");
  EXPECT_EQ(c.diagnostics[0].message,
            "calc: division by zero at column 4 of '10 / (2 - 2)'\n    10 / (2 - 2)\n       ^");
}

TEST_F(ResolverTest, CalcErrors) {
  Caught c = resolve_error(
      "a: '${calc:2 +}'\nb: '${calc:foo(1)}'\nc: '${calc:1, 2}'\nt: true\nd: '${calc:${t}}'\np: '(1 + 2'\n"
      "e: '${calc:${p}}'\n"
      "f: '${calc:1 % 0}'\ng: '${calc:2 ** 64}'\nh: '${calc:x${t}}'\ni: '${calc:1 2}'\nj: '${calc:round(1, 2, 3)}'\n");
  ASSERT_EQ(c.diagnostics.size(), 10u);
  EXPECT_NE(c.diagnostics[0].message.find("calc: expected a number, found the end of the expression at column 4"),
            std::string::npos)
      << c.diagnostics[0].message;
  EXPECT_NE(c.diagnostics[1].message.find("unknown name 'foo'"), std::string::npos);
  EXPECT_EQ(c.diagnostics[2].message, "calc takes one expression, got 2 arguments");
  EXPECT_EQ(c.diagnostics[3].message, "calc works on numbers, got bool True");
  EXPECT_NE(c.diagnostics[4].message.find("calc: the '(' here is never closed at column 1 of '(1 + 2'"),
            std::string::npos)
      << c.diagnostics[4].message;
  EXPECT_NE(c.diagnostics[5].message.find("division by zero (modulo)"), std::string::npos);
  EXPECT_NE(c.diagnostics[6].message.find("integer overflow"), std::string::npos);
  EXPECT_NE(c.diagnostics[7].message.find("unknown name 'xTrue'"), std::string::npos);
  EXPECT_NE(c.diagnostics[8].message.find("unexpected '2' after a complete expression"), std::string::npos);
  EXPECT_NE(c.diagnostics[9].message.find("round() takes 1 or 2 arguments, got 3"), std::string::npos);
}

}  // namespace
}  // namespace kiln::config
