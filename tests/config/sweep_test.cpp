// Sweep enumeration and multirun expansion (Hydra's BasicSweeper order).
#include "kiln/config/sweep.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kiln/config/error.h"

namespace kiln::config {
namespace {

const std::map<std::string, std::vector<std::string>> kGroups = {
    {"model", {"cnn", "mlp", "resnet18", "resnet50"}},
    {"data", {"cifar10", "mnist"}},
    {"empty", {}},
};

std::vector<std::string> options(const std::string& group) {
  auto it = kGroups.find(group);
  return it == kGroups.end() ? std::vector<std::string>{} : it->second;
}

std::vector<Node> values(const std::string& text) { return sweep_values(parse_override(text, 1), options); }

std::vector<double> floats(const std::string& text) {
  std::vector<double> out;
  for (const auto& n : values(text)) {
    EXPECT_EQ(n.kind(), Kind::kFloat) << text;
    if (n.kind() == Kind::kFloat) out.push_back(n.as_float());
  }
  return out;
}

std::vector<std::int64_t> ints(const std::string& text) {
  std::vector<std::int64_t> out;
  for (const auto& n : values(text)) {
    EXPECT_EQ(n.kind(), Kind::kInt) << text;
    if (n.kind() == Kind::kInt) out.push_back(n.as_int());
  }
  return out;
}

std::vector<std::string> strings(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& n : values(text)) out.push_back(n.scalar_text());
  return out;
}

Diagnostic values_error(const std::string& text, const GroupOptions& opts = options) {
  try {
    sweep_values(parse_override(text, 3), opts);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    if (!e.diagnostics().empty()) return e.diagnostics()[0];
  }
  ADD_FAILURE() << "no error for " << text;
  return {};
}

// The text of each job's overrides, "a=1 b=x".
std::vector<std::string> job_texts(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& job : expand_sweeps(parse_overrides(args), options)) {
    std::string line;
    for (const auto& o : job) line += (line.empty() ? "" : " ") + o.text;
    out.push_back(line);
  }
  return out;
}

// --- sweep_values ---

TEST(SweepValues, ChoiceInOrderWithTheOverrideSource) {
  auto v = values("a=3,1,2");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], Node::integer(3));
  EXPECT_EQ(v[2], Node::integer(2));
  EXPECT_EQ(v[1].source().str(), "override #1 'a=3,1,2'");
  EXPECT_EQ(strings("a=choice(x, 'y z', null)"), (std::vector<std::string>{"x", "y z", "null"}));
}

TEST(SweepValues, IntRangesArePythons) {
  EXPECT_EQ(ints("a=range(3)"), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(ints("a=range(0,3)"), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(ints("a=range(1,10,3)"), (std::vector<std::int64_t>{1, 4, 7}));
  EXPECT_EQ(ints("a=range(1,11,3)"), (std::vector<std::int64_t>{1, 4, 7, 10}));
  EXPECT_EQ(ints("a=range(5,0,-2)"), (std::vector<std::int64_t>{5, 3, 1}));
  EXPECT_EQ(ints("a=range(-2,1)"), (std::vector<std::int64_t>{-2, -1, 0}));
  EXPECT_EQ(ints("a=range(start=2, stop=4)"), (std::vector<std::int64_t>{2, 3}));
}

TEST(SweepValues, IntRangesNearTheLimitsDoNotOverflow) {
  EXPECT_EQ(ints("a=range(9223372036854775800,9223372036854775807,3)"),
            (std::vector<std::int64_t>{9223372036854775800, 9223372036854775803, 9223372036854775806}));
  EXPECT_EQ(ints("a=range(-9223372036854775808,-9223372036854775806)"),
            (std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                       std::numeric_limits<std::int64_t>::min() + 1}));
}

// Expected values come from Hydra's FloatRange algorithm run in Python (decimal.Decimal
// arithmetic): s = Decimal(start); while s < stop: yield float(s); s += Decimal(step).
TEST(SweepValues, FloatRangesMatchHydra) {
  EXPECT_EQ(floats("a=range(0,1,0.25)"), (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(floats("a=range(0,1,0.1)"),
            (std::vector<double>{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8, 0.9}));
  EXPECT_EQ(floats("a=range(1,0,-0.25)"), (std::vector<double>{1.0, 0.75, 0.5, 0.25}));
  EXPECT_EQ(floats("a=range(0.5,3)"), (std::vector<double>{0.5, 1.5, 2.5}));
  EXPECT_EQ(floats("a=range(0,0.3,0.1)"), (std::vector<double>{0.0, 0.1, 0.2}));
  EXPECT_EQ(floats("a=range(0,2,0.2)"),
            (std::vector<double>{0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0, 1.2, 1.4000000000000001, 1.6, 1.8}));
  EXPECT_EQ(floats("a=range(1.1,2.2,0.1)"),
            (std::vector<double>{1.1, 1.2000000000000002, 1.3, 1.4000000000000001, 1.5, 1.6, 1.7000000000000002, 1.8,
                                 1.9000000000000001, 2.0, 2.1, 2.2}));
}

// More of the same, including negative steps and values that Decimal's
// 28-digit rounding lands on the other side of a tie.
TEST(SweepValues, FloatRangesMatchHydraMore) {
  EXPECT_EQ(floats("a=range(-1,1,0.3)"),
            (std::vector<double>{-1.0, -0.7000000000000001, -0.4, -0.10000000000000003, 0.19999999999999996,
                                 0.49999999999999994, 0.7999999999999999}));
  EXPECT_EQ(floats("a=range(0.001,0.01,0.001)"),
            (std::vector<double>{0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009000000000000001}));
  EXPECT_EQ(floats("a=range(0,10,1.5)"), (std::vector<double>{0.0, 1.5, 3.0, 4.5, 6.0, 7.5, 9.0}));
  EXPECT_EQ(floats("a=range(100,99,-0.1)"),
            (std::vector<double>{100.0, 99.9, 99.8, 99.7, 99.6, 99.5, 99.4, 99.3, 99.2, 99.1}));
  EXPECT_EQ(floats("a=range(0.1,0.5,0.1)"), (std::vector<double>{0.1, 0.2, 0.30000000000000004, 0.4}));
  EXPECT_EQ(floats("a=range(1e-3,2e-3,1e-4)"),
            (std::vector<double>{0.001, 0.0011, 0.0012000000000000001, 0.0013, 0.0014, 0.0015, 0.0016,
                                 0.0017000000000000001, 0.0018, 0.0019}));
  EXPECT_EQ(floats("a=range(-0.5,-2,-0.35)"), (std::vector<double>{-0.5, -0.85, -1.2, -1.5499999999999998, -1.9}));
  EXPECT_EQ(floats("a=range(3,4.5,0.7)"), (std::vector<double>{3.0, 3.7, 4.4}));
}

TEST(SweepValuesError, EmptyRange) {
  Diagnostic d = values_error("a=range(5,0)");
  EXPECT_EQ(d.message, "'range(5,0)' is empty: it has no values from 5 to 0 in steps of 1");
  EXPECT_NE(d.hint.find("range(5,0,-1)"), std::string::npos);
  EXPECT_EQ(d.source.str(), "override #3 'a=range(5,0)'");
  EXPECT_EQ(d.key, "a");
  EXPECT_NE(values_error("a=range(0)").message.find("is empty"), std::string::npos);
  EXPECT_NE(values_error("a=range(0,1,-0.5)").message.find("is empty"), std::string::npos);
}

TEST(SweepValuesError, TooManyValues) {
  EXPECT_EQ(values_error("a=range(1000000)").message,
            "'range(1000000)' has more than 100000 values; kiln enumerates at most 100000 per sweep");
  EXPECT_NE(values_error("a=range(0,1,0.000001)").message.find("kiln enumerates at most 100000"), std::string::npos);
  EXPECT_NE(values_error("a=range(-9223372036854775808,9223372036854775807)").message.find("more than 100000"),
            std::string::npos);
  EXPECT_EQ(ints("a=range(100000)").size(), kMaxSweepValues);
}

TEST(SweepValues, GlobSelectsGroupOptions) {
  EXPECT_EQ(strings("model=glob(*)"), (std::vector<std::string>{"cnn", "mlp", "resnet18", "resnet50"}));
  EXPECT_EQ(strings("model=glob([cnn,mlp])"), (std::vector<std::string>{"cnn", "mlp"}));
  EXPECT_EQ(strings("model=glob(*,exclude=res*)"), (std::vector<std::string>{"cnn", "mlp"}));
  EXPECT_EQ(strings("model=glob(res*, exclude=[*18])"), (std::vector<std::string>{"resnet50"}));
  EXPECT_EQ(strings("model=glob(resnet?0)"), (std::vector<std::string>{"resnet50"}));
  EXPECT_EQ(strings("model=glob('[cm]*')"), (std::vector<std::string>{"cnn", "mlp"}));
  EXPECT_EQ(strings("model=glob('[!c]*')"), (std::vector<std::string>{"mlp", "resnet18", "resnet50"}));
  // The group is the key; a package does not change it. Values are strings.
  auto v = values("+model@backbone=glob(cnn)");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], Node::string("cnn"));
  EXPECT_EQ(v[0].source().str(), "override #1 '+model@backbone=glob(cnn)'");
}

TEST(SweepValuesError, GlobMatchingNothing) {
  Diagnostic d = values_error("model=glob(vit*)");
  EXPECT_EQ(d.message,
            "'glob(vit*)' matched none of the options of config group 'model' (cnn, mlp, resnet18, resnet50)");
  EXPECT_NE(d.hint.find("case-sensitive"), std::string::npos);
  EXPECT_EQ(values_error("empty=glob(*)").message, "'glob(*)' matched nothing: config group 'empty' has no options");
  EXPECT_NE(values_error("model=glob(*,exclude=*)").message.find("matched none of the options"), std::string::npos);
}

TEST(SweepValuesError, GlobWithoutGroupOptions) {
  Diagnostic d = values_error("model=glob(*)", GroupOptions{});
  EXPECT_EQ(d.message, "'glob(*)' needs the options of config group 'model', but none are available here");
}

TEST(SweepValues, NonSweepsStandForTheirOwnValue) {
  auto v = values("a=5");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], Node::integer(5));
  EXPECT_TRUE(values("~a").empty());
}

// --- glob_match (fnmatch) ---

TEST(GlobMatch, Patterns) {
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_TRUE(glob_match("res*", "resnet"));
  EXPECT_FALSE(glob_match("res*", "xresnet"));
  EXPECT_TRUE(glob_match("*net*", "resnet50"));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(glob_match("**", "x"));
  EXPECT_TRUE(glob_match("?", "x"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_FALSE(glob_match("?", "xy"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[a-c]x", "dx"));
  EXPECT_TRUE(glob_match("[!a-c]x", "dx"));
  EXPECT_TRUE(glob_match("[]]", "]"));
  EXPECT_TRUE(glob_match("[!]]", "a"));
  EXPECT_TRUE(glob_match("a[", "a["));  // an unclosed '[' is an ordinary character
  EXPECT_FALSE(glob_match("a[", "ab"));
  EXPECT_FALSE(glob_match("CNN", "cnn"));  // case-sensitive, as fnmatch on POSIX
  EXPECT_TRUE(glob_match("model/*", "model/cnn"));
}

// --- expand_sweeps ---

TEST(ExpandSweeps, NoSweepsIsOneJobWithTheOverridesUnchanged) {
  auto jobs = expand_sweeps(parse_overrides({"a=1", "+b=x"}), options);
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_EQ(jobs[0].size(), 2u);
  EXPECT_EQ(jobs[0][1].text, "+b=x");
  EXPECT_EQ(jobs[0][1].op, OverrideOp::kAdd);
  EXPECT_TRUE(expand_sweeps({}, options).size() == 1 && expand_sweeps({}, options)[0].empty());
}

TEST(ExpandSweeps, CartesianProductFirstSweepSlowest) {
  EXPECT_EQ(job_texts({"a=1,2", "b=x,y,z"}),
            (std::vector<std::string>{"a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"}));
}

TEST(ExpandSweeps, PlainOverridesStayInEveryJobInTheirPlace) {
  EXPECT_EQ(job_texts({"lr=0.1", "model=cnn,mlp", "~x", "seed=range(2)"}),
            (std::vector<std::string>{"lr=0.1 model=cnn ~x seed=0", "lr=0.1 model=cnn ~x seed=1",
                                      "lr=0.1 model=mlp ~x seed=0", "lr=0.1 model=mlp ~x seed=1"}));
}

TEST(ExpandSweeps, JobOverridesArePlainWithTheirOwnTextAndSource) {
  auto jobs = expand_sweeps(parse_overrides({"x=0", "+model@backbone=glob(*,exclude=res*)"}), options);
  ASSERT_EQ(jobs.size(), 2u);
  const Override& o = jobs[1][1];
  EXPECT_FALSE(o.is_sweep());
  EXPECT_EQ(o.op, OverrideOp::kAdd);
  EXPECT_EQ(o.key, "model");
  EXPECT_EQ(o.package, "backbone");
  EXPECT_EQ(o.index, 2);
  EXPECT_EQ(o.text, "+model@backbone=mlp");
  EXPECT_EQ(o.source.str(), "override #2 '+model@backbone=mlp'");
  EXPECT_EQ(*o.value, Node::string("mlp"));
  EXPECT_EQ(o.value->source().str(), "override #2 '+model@backbone=mlp'");
}

TEST(ExpandSweeps, JobTextsReadBackAsTheirValues) {
  auto jobs =
      expand_sweeps(parse_overrides({"a='x y','1',[1,'b c'],{k: v},null,1.0,${z}", "b=range(0,1,0.5)"}), options);
  ASSERT_EQ(jobs.size(), 14u);
  EXPECT_EQ(jobs[0][0].text, "a='x y'");
  EXPECT_EQ(jobs[2][0].text, "a='1'");
  EXPECT_EQ(jobs[4][0].text, "a=[1,'b c']");
  EXPECT_EQ(jobs[6][0].text, "a={k:v}");
  EXPECT_EQ(jobs[8][0].text, "a=null");
  EXPECT_EQ(jobs[10][0].text, "a=1.0");
  EXPECT_EQ(jobs[12][0].text, "a='${z}'");
  EXPECT_EQ(jobs[1][1].text, "b=0.5");
  for (const auto& job : jobs) {
    for (const auto& o : job) {
      Override back = parse_override(o.text, o.index);
      EXPECT_EQ(*back.value, *o.value) << o.text;
    }
  }
}

TEST(ExpandSweepsError, CollectsEverySweepsProblem) {
  try {
    expand_sweeps(parse_overrides({"model=glob(vit*)", "a=1,2", "b=range(3,0)"}), options);
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.diagnostics()[0].source.str(), "override #1 'model=glob(vit*)'");
    EXPECT_EQ(e.diagnostics()[1].source.str(), "override #3 'b=range(3,0)'");
  }
}

TEST(ExpandSweepsError, TooManyJobs) {
  try {
    expand_sweeps(parse_overrides({"a=range(1000)", "b=1", "c=range(1000)"}), options);
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].message,
              "the multirun has more than 100000 jobs: 1000 ('a=range(1000)') x 1000 ('c=range(1000)')");
    EXPECT_EQ(e.diagnostics()[0].source.str(), "override #1 'a=range(1000)'");
  }
}

}  // namespace
}  // namespace kiln::config
