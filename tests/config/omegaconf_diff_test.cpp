// Differential test: kiln's YAML loading, merging and resolution against
// OmegaConf itself.
//
// Every directory of tests/config/omegaconf_corpus/ is one case: base.yaml,
// more *.yaml merged in name order, and an optional overrides.txt of dotlist
// overrides. tests/config/omegaconf_reference.py computes OmegaConf's result
// for all cases in one Python process; this test computes kiln's and compares
// the canonical texts (see the script's docstring for the format). Both sides
// failing counts as agreement, whatever the error.
//
// OmegaConf.from_dotlist builds a new config from the overrides that is then
// merged (it is not Hydra's "set an existing key"), so it is emulated here:
// each `key=value` becomes {key: value} (value typed by kiln's
// parse_override_value) merged into one map, and that map merged last.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/config/merge.h"
#include "kiln/config/node.h"
#include "kiln/config/override.h"
#include "kiln/config/resolve.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"

namespace kiln::config {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(KILN_SOURCE_DIR) / "tests" / "config" / "omegaconf_corpus";
const fs::path kScript = fs::path(KILN_SOURCE_DIR) / "tests" / "config" / "omegaconf_reference.py";
constexpr const char* kPython = "/usr/bin/python3";

// The corpus's oc.env cases read these; both processes see the same values.
void prepare_environment() {
  ::setenv("KILN_DIFF_TEST_VAR", "from env", 1);
  ::unsetenv("KILN_DIFF_TEST_UNSET");
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kCorpus, ec))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ------------------------------------------------------------ canonical form

std::string json_string(const std::string& s) {
  // As Python's json.dumps(s, ensure_ascii=False).
  std::string out = "\"";
  for (unsigned char c : s) {
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
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string canonical(const Node& node, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(2 * (indent + 1)), ' ');
  const std::string close_pad(static_cast<std::size_t>(2 * indent), ' ');
  switch (node.kind()) {
    case Kind::kNull: return "null";
    case Kind::kMissing: return "???";
    case Kind::kBool: return node.as_bool() ? "b:true" : "b:false";
    case Kind::kInt: return "i:" + std::to_string(node.as_int());
    case Kind::kFloat: {
      if (std::isnan(node.as_float())) return "f:nan";  // printf may say "-nan"
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", node.as_float());
      return std::string("f:") + buf;
    }
    case Kind::kString: return "s:" + json_string(node.as_string());
    case Kind::kMap: {
      if (node.empty()) return "{}";
      std::string out = "{\n";
      for (std::size_t i = 0; i < node.size(); ++i) {
        out += pad + json_string(node.keys()[i]) + ": " + canonical(node.at(i), indent + 1);
        out += i + 1 < node.size() ? ",\n" : "\n";
      }
      return out + close_pad + "}";
    }
    case Kind::kList: {
      if (node.empty()) return "[]";
      std::string out = "[\n";
      for (std::size_t i = 0; i < node.size(); ++i) {
        out += pad + canonical(node.at(i), indent + 1);
        out += i + 1 < node.size() ? ",\n" : "\n";
      }
      return out + close_pad + "]";
    }
  }
  return "?";
}

// ------------------------------------------------------------ kiln's side

std::vector<std::string> override_lines(const fs::path& dir) {
  std::vector<std::string> lines;
  std::ifstream in(dir / "overrides.txt");
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos && line[0] != '#') lines.push_back(line);
  return lines;
}

// {a: {b: value}} for the key "a.b".
Node nested(const KeyPath& path, Node value, const Source& source) {
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Node map = Node::map(source);
    map.set(*it, std::move(value));
    value = std::move(map);
  }
  return value;
}

// OmegaConf.from_dotlist(lines), emulated with kiln's value parser.
Node from_dotlist(const std::vector<std::string>& lines) {
  Node config = Node::map();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const Source source = Source::override_arg(static_cast<int>(i) + 1, line);
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) throw kiln::Error("dotlist line without '=': " + line);
    Node value = parse_override_value(std::string_view(line).substr(eq + 1), source);
    merge_into(config, nested(parse_key(line.substr(0, eq)), std::move(value), source));
  }
  return config;
}

std::string kiln_result(const fs::path& dir) {
  try {
    std::vector<fs::path> more;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".yaml" && entry.path().filename() != "base.yaml") more.push_back(entry.path());
    std::sort(more.begin(), more.end());
    Node root = load_yaml_file((dir / "base.yaml").string()).root;
    for (const auto& file : more) merge_into(root, load_yaml_file(file.string()).root);
    merge_into(root, from_dotlist(override_lines(dir)));
    return canonical(resolve(root, ResolveOptions{}.set_allow_missing(true)));
  } catch (const std::exception& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    return "!error " + message;
  }
}

// ------------------------------------------------------------ OmegaConf's side

struct Reference {
  bool available = false;
  std::string why_unavailable;                 // set when Python or OmegaConf is missing
  std::string failure;                         // set when the script failed for another reason
  std::map<std::string, std::string> results;  // case -> canonical text
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Reference run_reference() {
  Reference ref;
  if (::access(kPython, X_OK) != 0) {
    ref.why_unavailable = std::string(kPython) + " not found";
    return ref;
  }
  prepare_environment();
  std::string stderr_path = (fs::temp_directory_path() / "kiln_omegaconf_diff.XXXXXX").string();
  int fd = ::mkstemp(stderr_path.data());
  if (fd >= 0) ::close(fd);
  const std::string command =
      std::string(kPython) + " '" + kScript.string() + "' '" + kCorpus.string() + "' 2>'" + stderr_path + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    ref.failure = "popen failed: " + command;
    return ref;
  }
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  const std::string errors = read_file(stderr_path);
  fs::remove(stderr_path);
  if (errors.find("No module named 'omegaconf'") != std::string::npos) {
    ref.why_unavailable = "OmegaConf is not installed for " + std::string(kPython);
    return ref;
  }
  if (status != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ref.failure = command + " failed (status " + std::to_string(status) + "):\n" + errors;
    return ref;
  }
  ref.available = true;
  std::istringstream lines(out);
  std::string line, current;
  for (std::string* text = nullptr; std::getline(lines, line);) {
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      text = &ref.results[current];
    } else if (text) {
      if (!text->empty()) *text += '\n';
      *text += line;
    }
  }
  return ref;
}

const Reference& reference() {
  static const Reference ref = run_reference();
  return ref;
}

// ------------------------------------------------------------ tests

class OmegaConfDiffTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OmegaConfDiffTest, KilnAgreesWithOmegaConf) {
  const Reference& ref = reference();
  if (!ref.available && ref.failure.empty()) GTEST_SKIP() << ref.why_unavailable;
  ASSERT_TRUE(ref.failure.empty()) << ref.failure;
  const std::string& name = GetParam();
  auto it = ref.results.find(name);
  ASSERT_NE(it, ref.results.end()) << "the reference script printed no result for case " << name;
  const std::string& expected = it->second;
  ASSERT_FALSE(expected.empty()) << "the reference script printed an empty result for case " << name;

  prepare_environment();
  const std::string actual = kiln_result(kCorpus / name);
  if (expected.rfind("!error", 0) == 0) {
    EXPECT_EQ(actual.rfind("!error", 0), 0u) << "OmegaConf fails (" << expected << ") but kiln gives:\n" << actual;
    return;
  }
  EXPECT_EQ(actual, expected) << "case tests/config/omegaconf_corpus/" << name << "\n--- kiln\n"
                              << actual << "\n--- OmegaConf\n"
                              << expected;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, OmegaConfDiffTest, ::testing::ValuesIn(case_names()), test_name);

TEST(OmegaConfDiffCorpusTest, CorpusHasAtLeastFortyCases) { EXPECT_GE(case_names().size(), 40u) << kCorpus; }

TEST(OmegaConfDiffCorpusTest, EveryCaseHasABaseFile) {
  for (const auto& name : case_names()) EXPECT_TRUE(fs::exists(kCorpus / name / "base.yaml")) << name;
}

TEST(OmegaConfDiffCorpusTest, CanonicalFormSpellsEveryKind) {
  Node root = Node::map();
  root.set("i", Node::integer(-3));
  root.set("f", Node::floating(0.1));
  root.set("inf", Node::floating(-INFINITY));
  root.set("nan", Node::floating(-NAN));
  root.set("s", Node::string("a\"b\\c\n\x01"));
  root.set("b", Node::boolean(false));
  root.set("n", Node::null());
  root.set("m", Node::missing());
  Node list = Node::list();
  list.push_back(Node::map());
  list.push_back(Node::list());
  root.set("l", list);
  EXPECT_EQ(canonical(root), R"({
  "i": i:-3,
  "f": f:0.10000000000000001,
  "inf": f:-inf,
  "nan": f:nan,
  "s": s:"a\"b\\c\n\u0001",
  "b": b:false,
  "n": null,
  "m": ???,
  "l": [
    {},
    []
  ]
})");
}

}  // namespace
}  // namespace kiln::config
