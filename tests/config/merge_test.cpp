#include "kiln/config/merge.h"

#include <gtest/gtest.h>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

Node load(const std::string& text, const std::string& origin = "base.yaml") { return load_yaml(text, origin).root; }
std::string merged_yaml(const std::string& a, const std::string& b) {
  return to_yaml(merged(load(a), load(b, "other.yaml")));
}

TEST(Merge, MapsMergeRecursivelyAndKeepOrder) {
  EXPECT_EQ(merged_yaml("a:\n  x: 1\n  y: 2\nb: 3\n", "a:\n  y: 20\n  z: 30\nc: 4\n"),
            "a:\n  x: 1\n  y: 20\n  z: 30\nb: 3\nc: 4\n");
}

TEST(Merge, ScalarsAndNullReplaceAnything) {
  EXPECT_EQ(merged_yaml("a:\n  b: 1\n", "a: 5\n"), "a: 5\n");
  EXPECT_EQ(merged_yaml("a: 5\n", "a:\n  b: 1\n"), "a:\n  b: 1\n");
  EXPECT_EQ(merged_yaml("a:\n  b: 1\n", "a: null\n"), "a: null\n");
  EXPECT_EQ(merged_yaml("a: null\n", "a:\n  b: 1\n"), "a:\n  b: 1\n");
}

TEST(Merge, MissingDoesNotOverwrite) {
  EXPECT_EQ(merged_yaml("a: 1\nb: [1]\n", "a: ???\nb: ???\n"), "a: 1\nb:\n  - 1\n");
  EXPECT_EQ(merged_yaml("a: ???\n", "a: 2\n"), "a: 2\n");
}

TEST(Merge, ListsReplaceByDefault) { EXPECT_EQ(merged_yaml("a: [1, 2, 3]\n", "a: [4]\n"), "a:\n  - 4\n"); }

TEST(Merge, TaggedListsAppendPrependOrMergeByIndex) {
  EXPECT_EQ(merged_yaml("a: [1, 2]\n", "a: !append [3]\n"), "a: !append\n  - 1\n  - 2\n  - 3\n");
  EXPECT_EQ(merged_yaml("a: [1, 2]\n", "a: !prepend [0]\n"), "a: !prepend\n  - 0\n  - 1\n  - 2\n");
  EXPECT_EQ(merged_yaml("a: [{x: 1, y: 1}, {x: 2}]\n", "a: !merge_by_index [{y: 5}, {}, {x: 3}]\n"),
            "a: !merge_by_index\n  - x: 1\n    y: 5\n  - x: 2\n  - x: 3\n");
}

TEST(Merge, DeclaredModeStaysWithTheKey) {
  // Declared once where the list is defined, later plain lists append.
  Node base = load("callbacks: !append [checkpoint]\n");
  merge_into(base, load("callbacks: [early_stop]\n"));
  merge_into(base, load("callbacks: [progress]\n"));
  EXPECT_EQ(to_yaml(base), "callbacks: !append\n  - checkpoint\n  - early_stop\n  - progress\n");
  // An explicit !replace resets it.
  merge_into(base, load("callbacks: !replace [only]\n"));
  EXPECT_EQ(to_yaml(base), "callbacks: !replace\n  - only\n");
}

TEST(Merge, MapIntoListIsAnErrorNamingKeyAndBothSources) {
  try {
    merged(load("a:\n  b: [1]\n"), load("a:\n  b:\n    x: 1\n", "other.yaml"));
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    const Diagnostic& d = e.diagnostics()[0];
    EXPECT_EQ(d.key, "a.b");
    EXPECT_EQ(d.source.str(), "other.yaml:3:5");
    EXPECT_NE(d.message.find("cannot merge a map (other.yaml:3:5) into a list (base.yaml:2:6)"), std::string::npos)
        << d.message;
  }
}

TEST(Merge, MergedValuesKeepTheirSources) {
  Node result = merged(load("a: 1\nb: 2\n"), load("b: 3\n", "other.yaml"));
  EXPECT_EQ(result.find("a")->source().str(), "base.yaml:1:4");
  EXPECT_EQ(result.find("b")->source().str(), "other.yaml:1:4");
}

}  // namespace
}  // namespace kiln::config
