// Tests for registration with KILN_REGISTER (kiln/registry/registrar.h) and
// the list of kinds (kiln/registry/kind.h). The widgets are registered in
// registered_elsewhere_test.cpp, another translation unit of this binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kiln/config/yaml.h"
#include "kiln/registry/registrar.h"
#include "test_products.h"

namespace kiln_test {
namespace {

using kiln::config::Node;

Node yaml(std::string_view text) { return kiln::config::load_yaml(text, "test.yaml").root; }

TEST(Registration, FromAnotherTranslationUnitHappensBeforeMain) {
  EXPECT_EQ(kiln::registry<Widget>().names(), (std::vector<std::string>{"gear", "spring"}));
  auto gear = kiln::instantiate<Widget>(yaml("_target_: gear\nteeth: 40\n"));
  EXPECT_EQ(gear->label, "gear");
  EXPECT_EQ(gear->size, 40);
  EXPECT_EQ(kiln::instantiate<Widget>(yaml("_target_: spring\n"))->label, "spring");
}

TEST(Registration, TheRegistryOfAKindIsOneObject) {
  EXPECT_EQ(&kiln::registry<Widget>(), &kiln::registry<Widget>());
  EXPECT_EQ(kiln::registry<Widget>().kind(), "widget");
}

TEST(Registration, RegistrarReportsADuplicateByThrowing) {
  // At namespace scope this throw would end the program at startup, with
  // the message; here it is caught.
  try {
    kiln::Registrar<Widget> again("spring", [] { return std::make_shared<Widget>(); });
    FAIL() << "expected kiln::Error";
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("widget 'spring' is already registered"), std::string::npos) << e.what();
  }
}

TEST(Registration, RegistrarAtRunTimeAddsToTheKindsRegistry) {
  kiln::Registrar<Widget> late("late_widget", [] { return std::make_shared<Widget>(Widget{"late", 2}); });
  EXPECT_EQ(kiln::instantiate<Widget>(yaml("_target_: late_widget\n"))->size, 2);
  EXPECT_TRUE(kiln::registry<Widget>().remove("late_widget"));
}

TEST(Kinds, ListsEveryKindInUseSortedByName) {
  kiln::registry<Widget>();  // make sure the kind exists
  std::vector<std::string> names;
  for (const kiln::AnyRegistry* r : kiln::kinds()) names.push_back(r->kind());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), "widget"), names.end());
  EXPECT_EQ(kiln::find_kind("widget"), &kiln::registry<Widget>());
  EXPECT_EQ(kiln::find_kind("gadget"), nullptr);
}

TEST(Kinds, ValidateThroughTheTypeErasedView) {
  const kiln::AnyRegistry* widgets = kiln::find_kind("widget");
  ASSERT_NE(widgets, nullptr);
  kiln::config::Diagnostics diags;
  Node root = yaml("part:\n  _target_: gear\n  teeth: 2\n");
  EXPECT_FALSE(widgets->validate_at(root, {"part"}, diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.items()[0].key, "part.teeth");
  EXPECT_EQ(diags.items()[0].source.str(), "test.yaml:3:10");
}

}  // namespace
}  // namespace kiln_test
