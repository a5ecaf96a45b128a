// Tests for introspection (FactoryInfo, AnyRegistry) and the text of
// kiln/registry/help.h, on registries of the test's own.
#include "kiln/registry/help.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kiln/config/yaml.h"
#include "test_products.h"

namespace kiln_test {
namespace {

using kiln::config::Node;
using kiln::config::Schema;

struct AdamOptions {
  double lr = 1e-3;
  std::vector<double> betas{0.9, 0.999};
  std::string mode = "fast";
};

Schema<AdamOptions> adam_schema() {
  Schema<AdamOptions> s("adam", {.doc = "Adam"});
  s.field("lr", &AdamOptions::lr).doc("learning rate").min(0.0);
  s.field("betas", &AdamOptions::betas).doc("running average coefficients");
  s.field("mode", &AdamOptions::mode).choices({"fast", "exact"});
  return s;
}

std::shared_ptr<Optimizer> make_adam(const AdamOptions&, Params) { return std::make_shared<Optimizer>(); }

class HelpTest : public ::testing::Test {
 protected:
  HelpTest() {
    optimizers.add("adam", adam_schema(), make_adam);
    optimizers.add("stochastic_gd", Schema<AdamOptions>("stochastic_gd"), make_adam);  // no doc
    optimizers.add("none", [](Params) { return std::make_shared<Optimizer>(); });
  }
  kiln::Registry<Optimizer, Params> optimizers{"optimizer"};
};

TEST_F(HelpTest, NamesAreSorted) {
  EXPECT_EQ(optimizers.names(), (std::vector<std::string>{"adam", "none", "stochastic_gd"}));
  EXPECT_TRUE(optimizers.contains("adam"));
  EXPECT_FALSE(optimizers.contains("adamw"));
}

TEST_F(HelpTest, InfoDescribesEachParameter) {
  EXPECT_FALSE(optimizers.info("adamw"));
  auto info = optimizers.info("adam");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, "optimizer");
  EXPECT_EQ(info->name, "adam");
  EXPECT_EQ(info->doc(), "Adam");
  auto rows = info->params(nullptr, {"optimizer"});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, "optimizer.lr");
  EXPECT_EQ(rows[0].type, "float");
  EXPECT_EQ(rows[0].default_value, "0.001");
  EXPECT_EQ(rows[0].doc, "learning rate");
  EXPECT_EQ(rows[0].constraints, "x >= 0");
  EXPECT_EQ(rows[1].type, "list[float]");
  EXPECT_EQ(rows[2].constraints, "one of: fast, exact");
}

TEST_F(HelpTest, CurrentValuesComeFromTheNodeIgnoringReservedKeys) {
  Node node = kiln::config::load_yaml("_target_: adam\nlr: 0.5\n", "test.yaml").root;
  auto rows = optimizers.info("adam")->params(&node);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].current_value, "0.5");
  EXPECT_FALSE(rows[1].current_value);
}

TEST_F(HelpTest, FactoryList) {
  EXPECT_EQ(kiln::format_factory_list(optimizers),
            "  adam           Adam\n"
            "  none\n"
            "  stochastic_gd\n");
  kiln::Registry<Optimizer, Params> empty("optimizer");
  EXPECT_EQ(kiln::format_factory_list(empty), "  (none registered)\n");
}

TEST_F(HelpTest, Catalog) {
  kiln::Registry<Activation> activations("activation");
  activations.add("relu", [] { return std::make_shared<Activation>(); });
  EXPECT_EQ(kiln::format_catalog({&activations, &optimizers}),
            "activation:\n"
            "  relu\n"
            "\n"
            "optimizer:\n"
            "  adam           Adam\n"
            "  none\n"
            "  stochastic_gd\n");
}

TEST_F(HelpTest, FactoryHelp) {
  EXPECT_EQ(kiln::format_factory_help(*optimizers.info("adam"), nullptr, {"optimizer"}),
            "optimizer=adam: Adam\n"
            "KEY              TYPE         DEFAULT       DESCRIPTION\n"
            "optimizer.lr     float        0.001         learning rate; x >= 0\n"
            "optimizer.betas  list[float]  [0.9, 0.999]  running average coefficients\n"
            "optimizer.mode   string       fast          one of: fast, exact\n");
  EXPECT_EQ(kiln::format_factory_help(*optimizers.info("none")), "optimizer=none\n  (no parameters)\n");
}

}  // namespace
}  // namespace kiln_test
