// Applying key overrides to a config tree: Hydra's set/add/force-add/delete
// rules and kiln's errors.
#include <gtest/gtest.h>

#include <string>

#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

constexpr const char* kBase =
    "optimizer:\n"
    "  name: adam\n"
    "  lr: 0.001\n"
    "  betas: [0.9, 0.999]\n"
    "trainer:\n"
    "  gpus: [0, 1]\n"
    "  max_epochs: 10\n"
    "  seed: null\n"
    "  ckpt: ???\n"
    "  callbacks: !append [checkpoint]\n"
    "model:\n"
    "  dim: 128\n";

Node base() { return load_yaml(kBase, "base.yaml").root; }

Node applied(std::vector<std::string> args, Node config = base()) {
  apply_overrides(config, parse_overrides(args));
  return config;
}

std::string yaml_of(const Node& n) { return to_yaml(n); }

// The diagnostics apply_overrides throws for `args` on the base config.
std::vector<Diagnostic> apply_errors(std::vector<std::string> args, Node config = base()) {
  try {
    apply_overrides(config, parse_overrides(args));
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  ADD_FAILURE() << "no error for " << args.front();
  return {};
}

Diagnostic apply_error(const std::string& arg, Node config = base()) {
  auto all = apply_errors({arg}, std::move(config));
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? Diagnostic{} : all[0];
}

const Node& at(const Node& root, const std::string& key) {
  const Node* n = select(root, parse_key(key));
  EXPECT_NE(n, nullptr) << key;
  static const Node kNull;
  return n ? *n : kNull;
}

bool has(const Node& root, const std::string& key) { return select(root, parse_key(key)) != nullptr; }

// --- set ---

TEST(ApplyOverrides, SetReplacesAValueAndKeepsTheOverrideSource) {
  Node c = applied({"optimizer.lr=0.1"});
  EXPECT_EQ(at(c, "optimizer.lr"), Node::floating(0.1));
  EXPECT_EQ(at(c, "optimizer.lr").source().str(), "override #1 'optimizer.lr=0.1'");
  // Untouched values keep their file positions; key order is unchanged.
  EXPECT_EQ(at(c, "optimizer.name").source().str(), "base.yaml:2:9");
  EXPECT_EQ(c.find("optimizer")->keys(), (std::vector<std::string>{"name", "lr", "betas"}));
}

TEST(ApplyOverrides, SetAnyTypeOverAnyType) {
  Node c = applied({"optimizer.lr=abc", "model.dim=null", "optimizer.betas=[1, 2, 3]", "trainer.max_epochs={a: 1}"});
  EXPECT_EQ(at(c, "optimizer.lr"), Node::string("abc"));
  EXPECT_TRUE(at(c, "model.dim").is_null());
  EXPECT_EQ(at(c, "optimizer.betas").size(), 3u);
  EXPECT_EQ(at(c, "trainer.max_epochs.a"), Node::integer(1));
}

TEST(ApplyOverrides, SetCompletesAMissingValue) {
  Node c = applied({"trainer.ckpt=last.ckpt", "trainer.seed=3"});
  EXPECT_EQ(at(c, "trainer.ckpt"), Node::string("last.ckpt"));
  EXPECT_EQ(at(c, "trainer.seed"), Node::integer(3));
  EXPECT_TRUE(at(applied({"model.dim=???"}), "model.dim").is_missing());
}

TEST(ApplyOverrides, AMapValueMergesIntoAMapAsInHydra) {
  Node c = applied({"optimizer={lr: 0.5, momentum: 0.9}"});
  EXPECT_EQ(yaml_of(*c.find("optimizer")), "name: adam\nlr: 0.5\nbetas:\n  - 0.9\n  - 0.999\nmomentum: 0.9\n");
  EXPECT_EQ(at(c, "optimizer.momentum").source().str(), "override #1 'optimizer={lr: 0.5, momentum: 0.9}'");
  // Nested maps merge too; ??? leaves what is there, as OmegaConf's merge does.
  Node nested = applied({"+a={b: {x: 1, y: 2}}", "a={b: {y: 3, z: ???}}"}, load_yaml("{}", "e.yaml").root);
  EXPECT_EQ(yaml_of(nested), "a:\n  b:\n    x: 1\n    y: 3\n    z: ???\n");
  Node kept = applied({"optimizer={lr: ???}"});
  EXPECT_EQ(at(kept, "optimizer.lr"), Node::floating(0.001));
}

TEST(ApplyOverrides, AnEmptyMapValueChangesNothingButDeleteThenAddReplaces) {
  EXPECT_EQ(yaml_of(applied({"optimizer={}"})), yaml_of(base()));
  Node c = applied({"~optimizer", "+optimizer={name: sgd}"});
  EXPECT_EQ(yaml_of(*c.find("optimizer")), "name: sgd\n");
}

TEST(ApplyOverrides, AListValueReplacesTheListAndKeepsItsDeclaredMergeMode) {
  Node c = applied({"trainer.callbacks=[early_stop]"});
  EXPECT_EQ(at(c, "trainer.callbacks").size(), 1u);
  EXPECT_EQ(at(c, "trainer.callbacks").at(0), Node::string("early_stop"));
  EXPECT_EQ(at(c, "trainer.callbacks").list_merge(), ListMerge::kAppend);
}

TEST(ApplyOverrides, SetAListElement) {
  Node c = applied({"trainer.gpus.1=7"});
  EXPECT_EQ(at(c, "trainer.gpus").at(1), Node::integer(7));
  EXPECT_EQ(at(c, "trainer.gpus").at(0), Node::integer(0));
}

TEST(ApplyOverrides, LaterOverridesWin) {
  EXPECT_EQ(at(applied({"model.dim=1", "model.dim=2"}), "model.dim"), Node::integer(2));
}

TEST(ApplyOverrides, InterpolationsAreSetAsWritten) {
  Node c = applied({"model.dim=${trainer.max_epochs}"});
  EXPECT_TRUE(at(c, "model.dim").is_interpolation());
  EXPECT_EQ(at(c, "model.dim").as_string(), "${trainer.max_epochs}");
}

TEST(ApplyOverridesError, SetUnknownKeySuggestsTheNearestAndThePlusForm) {
  Diagnostic d = apply_error("optimizer.lrr=0.1");
  EXPECT_EQ(d.message, "Could not override 'optimizer.lrr': key not found");
  EXPECT_EQ(d.key, "optimizer.lrr");
  EXPECT_EQ(d.source.str(), "override #1 'optimizer.lrr=0.1'");
  EXPECT_NE(d.hint.find("did you mean 'optimizer.lr'?"), std::string::npos) << d.hint;
  EXPECT_NE(d.hint.find("To add it as a new key, use '+optimizer.lrr=0.1'"), std::string::npos) << d.hint;
}

TEST(ApplyOverridesError, SetUnknownKeyWithNothingClose) {
  Diagnostic d = apply_error("completely.different=1");
  EXPECT_EQ(d.message, "Could not override 'completely.different': key not found");
  EXPECT_EQ(d.hint, "to add it as a new key, use '+completely.different=1'");
}

TEST(ApplyOverridesError, SetUnderAMissingParent) {
  Diagnostic d = apply_error("optimiser.lr=1");
  EXPECT_EQ(d.message, "Could not override 'optimiser.lr': key not found");
  EXPECT_NE(d.hint.find("did you mean 'optimizer.lr'?"), std::string::npos) << d.hint;
}

TEST(ApplyOverridesError, SetUnderANullOrMissingParent) {
  Diagnostic null_parent = apply_error("trainer.seed.value=1");
  EXPECT_EQ(null_parent.message,
            "Could not override 'trainer.seed.value': 'trainer.seed' is null, so it has no key "
            "'value'");
  EXPECT_EQ(null_parent.hint, "'+trainer.seed.value=1' replaces it with a map holding the key");
  EXPECT_NE(apply_error("trainer.ckpt.path=x").message.find("'trainer.ckpt' is missing (??\?)"), std::string::npos);
}

TEST(ApplyOverridesError, SetAChildOfAScalar) {
  Diagnostic d = apply_error("optimizer.lr.x=1");
  EXPECT_EQ(d.message,
            "Could not override 'optimizer.lr.x': 'optimizer.lr' is float 0.001, set at base.yaml:3:7, "
            "not a map or list");
  EXPECT_NE(d.hint.find("'optimizer.lr={x: ...}'"), std::string::npos);
  // ++ does not silently replace the scalar either (Hydra's would).
  EXPECT_NE(apply_error("++optimizer.name.x=1").message.find("'optimizer.name' is string 'adam'"), std::string::npos);
}

TEST(ApplyOverridesError, ListIndexOutOfRange) {
  Diagnostic d = apply_error("trainer.gpus.5=1");
  EXPECT_EQ(d.message,
            "Could not override 'trainer.gpus.5': index 5 is out of range for 'trainer.gpus', a list of "
            "2 items");
  EXPECT_EQ(d.key, "trainer.gpus[5]");
  EXPECT_NE(d.hint.find("valid indices are 0 to 1"), std::string::npos);
  EXPECT_NE(apply_error("+trainer.gpus.2=1").message.find("index 2 is out of range"), std::string::npos);
  EXPECT_NE(apply_error("~trainer.gpus.9").message.find("Could not delete 'trainer.gpus.9': index 9"),
            std::string::npos);
}

TEST(ApplyOverridesError, ListIndexThatIsNotANumber) {
  Diagnostic d = apply_error("trainer.gpus.first=1");
  EXPECT_EQ(d.message,
            "Could not override 'trainer.gpus.first': 'trainer.gpus' is a list, so 'first' is not a "
            "valid index");
  EXPECT_EQ(d.hint, "index lists with a number: 'trainer.gpus.0'");
}

// --- add and force-add ---

TEST(ApplyOverrides, AddANewKey) {
  Node c = applied({"+trainer.precision=16"});
  EXPECT_EQ(at(c, "trainer.precision"), Node::integer(16));
  EXPECT_EQ(c.find("trainer")->keys().back(), "precision");
}

TEST(ApplyOverrides, AddCreatesMissingParentsAsMaps) {
  Node c = applied({"+logger.wandb.project=kiln"});
  EXPECT_EQ(at(c, "logger.wandb.project"), Node::string("kiln"));
  EXPECT_TRUE(at(c, "logger").is_map());
  EXPECT_EQ(at(c, "logger.wandb").source().str(), "override #1 '+logger.wandb.project=kiln'");
}

TEST(ApplyOverrides, AddTurnsANullOrMissingParentIntoAMap) {
  Node c = applied({"+trainer.seed.value=1", "++trainer.ckpt.path=x"});
  EXPECT_EQ(at(c, "trainer.seed.value"), Node::integer(1));
  EXPECT_EQ(at(c, "trainer.ckpt.path"), Node::string("x"));
}

TEST(ApplyOverridesError, AddAnExistingKeySuggestsPlusPlus) {
  Diagnostic d = apply_error("+optimizer.lr=0.1");
  EXPECT_EQ(d.message, "Could not add 'optimizer.lr': an item is already there (float 0.001, set at base.yaml:3:7)");
  EXPECT_EQ(d.hint,
            "to override it, remove the + prefix: 'optimizer.lr=0.1'; to add or override, use two: "
            "'++optimizer.lr=0.1'");
  EXPECT_EQ(d.source.str(), "override #1 '+optimizer.lr=0.1'");
}

TEST(ApplyOverridesError, AddFailsOnNullAndContainersToo) {
  EXPECT_NE(apply_error("+trainer.seed=1").message.find("an item is already there (null"), std::string::npos);
  EXPECT_NE(apply_error("+optimizer={lr: 1}").message.find("an item is already there (a map"), std::string::npos);
  EXPECT_NE(apply_error("+trainer.gpus=[1]").message.find("(a list of 2 items"), std::string::npos);
}

TEST(ApplyOverrides, ForceAddAddsOrSets) {
  Node c = applied({"++optimizer.lr=0.5", "++optimizer.momentum=0.9", "++a.b.c=1"});
  EXPECT_EQ(at(c, "optimizer.lr"), Node::floating(0.5));
  EXPECT_EQ(at(c, "optimizer.momentum"), Node::floating(0.9));
  EXPECT_EQ(at(c, "a.b.c"), Node::integer(1));
  Node merged = applied({"++optimizer={lr: 2}"});
  EXPECT_EQ(at(merged, "optimizer.name"), Node::string("adam"));  // merges like a set
  EXPECT_EQ(at(applied({"++trainer.gpus.0=5"}), "trainer.gpus").at(0), Node::integer(5));
}

// --- delete ---

TEST(ApplyOverrides, DeleteKeysAndSubtrees) {
  Node c = applied({"~optimizer.lr", "~model"});
  EXPECT_FALSE(has(c, "optimizer.lr"));
  EXPECT_FALSE(has(c, "model"));
  EXPECT_TRUE(has(c, "optimizer.name"));
}

TEST(ApplyOverrides, DeleteOnlyWhenTheValueMatches) {
  EXPECT_FALSE(has(applied({"~optimizer.lr=0.001"}), "optimizer.lr"));
  EXPECT_FALSE(has(applied({"~trainer.gpus=[0, 1]"}), "trainer.gpus"));
  EXPECT_FALSE(has(applied({"~trainer.seed=null"}), "trainer.seed"));
  EXPECT_FALSE(has(applied({"~trainer.ckpt=???"}), "trainer.ckpt"));
  // Numbers compare by value (Python's 10 == 10.0); map key order does not matter.
  EXPECT_FALSE(has(applied({"~trainer.max_epochs=10.0"}), "trainer.max_epochs"));
  Node m = load_yaml("a: {x: 1, y: 2}\n", "m.yaml").root;
  EXPECT_FALSE(has(applied({"~a={y: 2, x: 1}"}, m), "a"));
  // ~key= matches the empty string only.
  Node e = load_yaml("s: ''\n", "e.yaml").root;
  EXPECT_FALSE(has(applied({"~s="}, e), "s"));
}

TEST(ApplyOverrides, DeleteAListElementMovesTheRestUp) {
  Node c = applied({"~optimizer.betas.0"});
  ASSERT_EQ(at(c, "optimizer.betas").size(), 1u);
  EXPECT_EQ(at(c, "optimizer.betas").at(0), Node::floating(0.999));
}

TEST(ApplyOverridesError, DeleteAMissingKey) {
  Diagnostic d = apply_error("~optimizer.lrr");
  EXPECT_EQ(d.message, "Could not delete 'optimizer.lrr': key not found");
  EXPECT_EQ(d.hint, "did you mean 'optimizer.lr'?");
}

TEST(ApplyOverridesError, DeleteWithAnotherValue) {
  Diagnostic d = apply_error("~optimizer.lr=0.01");
  EXPECT_EQ(d.message, "Could not delete 'optimizer.lr': its value is 0.001 and not 0.01");
  EXPECT_EQ(d.hint, "'~optimizer.lr' deletes it whatever its value");
  EXPECT_NE(apply_error("~trainer.max_epochs='10'").message.find("its value is 10 and not '10'"), std::string::npos);
}

// --- what apply_overrides leaves to others ---

TEST(ApplyOverridesError, GroupSelectionsAreNotKeys) {
  Diagnostic path = apply_error("model/encoder=small");
  EXPECT_EQ(path.message,
            "Could not override 'model/encoder': it looks like a config group selection, but there is "
            "no config group 'model/encoder'");
  Diagnostic package = apply_error("model@backbone=cnn");
  EXPECT_NE(package.message.find("Could not override 'model@backbone': it looks like a config group selection"),
            std::string::npos);
}

TEST(ApplyOverridesError, SweepsMustBeExpandedFirst) {
  Diagnostic d = apply_error("model.dim=1,2");
  EXPECT_EQ(d.message, "Could not apply 'model.dim=1,2': its value is a sweep (1,2)");
  EXPECT_NE(d.hint.find("--multirun"), std::string::npos);
}

TEST(ApplyOverridesError, EveryFailingOverrideIsReportedAndTheRestApplied) {
  Node config = base();
  try {
    apply_overrides(config, parse_overrides({"optimizer.lrr=1", "model.dim=64", "+optimizer.lr=2", "~nope"}));
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3u);
    EXPECT_EQ(e.diagnostics()[0].source.str(), "override #1 'optimizer.lrr=1'");
    EXPECT_EQ(e.diagnostics()[1].source.str(), "override #3 '+optimizer.lr=2'");
    EXPECT_EQ(e.diagnostics()[2].source.str(), "override #4 '~nope'");
    EXPECT_EQ(e.exit_code(), ExitCode::kConfig);
  }
  EXPECT_EQ(at(config, "model.dim"), Node::integer(64));
}

TEST(ApplyOverridesError, WhatTheUserSees) {
  try {
    applied({"optimizer.lrr=0.1"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "override #1 'optimizer.lrr=0.1': error: optimizer.lrr: Could not override 'optimizer.lrr': key not "
              "found\n  hint: did you mean 'optimizer.lr'? To add it as a new key, use '+optimizer.lrr=0.1'");
  }
}

}  // namespace
}  // namespace kiln::config
