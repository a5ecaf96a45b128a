// Registrations only, as in a user's own source file: registration_test.cpp
// checks from another translation unit that they took effect before main.
// (Named *_test.cpp so the test binary's glob picks it up; it holds no tests.)
#include <cstdint>
#include <memory>
#include <string>

#include "kiln/registry/registrar.h"
#include "test_products.h"

namespace kiln_test {
namespace {

struct GearOptions {
  std::string label = "gear";
  std::int64_t teeth = 12;
};

kiln::config::Schema<GearOptions> gear_schema() {
  kiln::config::Schema<GearOptions> s("gear", {.doc = "a toothed wheel"});
  s.field("label", &GearOptions::label).doc("what to call it");
  s.field("teeth", &GearOptions::teeth).doc("number of teeth").min(3);
  return s;
}

std::shared_ptr<Widget> make_gear(const GearOptions& o) { return std::make_shared<Widget>(Widget{o.label, o.teeth}); }

std::shared_ptr<Widget> make_spring() { return std::make_shared<Widget>(Widget{"spring", 1}); }

}  // namespace

KILN_REGISTER(Widget, "gear", gear_schema(), make_gear);
KILN_REGISTER(Widget, "spring", make_spring);

}  // namespace kiln_test
