#include "kiln/config/compose.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"

namespace kiln::config {
namespace {

const std::string kFixtures = std::string(KILN_SOURCE_DIR) + "/tests/config/fixtures/compose";

class Compose : public ::testing::Test {
 protected:
  Compose() { search_path_.add(directory_root(kFixtures)); }

  ComposeResult compose(const std::string& name, const std::vector<std::string>& overrides = {},
                        ComposeOptions options = {}) {
    return Composer(search_path_, std::move(options)).compose(name, parse_overrides(overrides));
  }
  std::string yaml(const std::string& name, const std::vector<std::string>& overrides = {}) {
    return to_yaml(compose(name, overrides).config);
  }
  // The ConfigError compose throws, as text; fails the test when none is thrown.
  ConfigError error(const std::string& name, const std::vector<std::string>& overrides = {}) {
    try {
      compose(name, overrides);
    } catch (const ConfigError& e) {
      return e;
    }
    ADD_FAILURE() << "expected a ConfigError composing " << name;
    return ConfigError(Diagnostic{});
  }

  SearchPath search_path_;
};

TEST_F(Compose, DefaultsListMergesGroupsThenSelf) {
  EXPECT_EQ(yaml("train"),
            "model:\n  encoder:\n    depth: 2\n  name: cnn\n  channels:\n    - 16\n    - 32\n"
            "optimizer:\n  name: adamw\n  lr: 0.001\nseed: 1\nrun_name: ${model.name}_${seed}\n");
}

TEST_F(Compose, RecordsChoicesAndTheDefaultsTree) {
  ComposeResult r = compose("train");
  std::vector<std::pair<std::string, std::string>> expected = {
      {"model", "cnn"}, {"model/encoder", "small"}, {"optimizer", "adamw"}};
  EXPECT_EQ(r.choices, expected);
  ASSERT_EQ(r.defaults_tree.children.size(), 3u);
  const DefaultsTreeNode& model = r.defaults_tree.children[0];
  EXPECT_EQ(model.config_path, "model/cnn");
  EXPECT_EQ(model.package, "model");
  EXPECT_EQ(model.file, kFixtures + "/model/cnn.yaml");
  EXPECT_EQ(model.children[0].config_path, "model/encoder/small");
  EXPECT_EQ(model.children[0].package, "model.encoder");
}

TEST_F(Compose, SelfFirstLetsDefaultsWin) { EXPECT_EQ(yaml("self_first"), "optimizer:\n  lr: 0.001\n  name: adamw\n"); }

TEST_F(Compose, CommandLineSelectsGroupOptions) {
  EXPECT_EQ(yaml("train", {"model=mlp"}).substr(0, 40), "model:\n  name: mlp\n  hidden:\n    - 64\nop");
  Node c = compose("train", {"model/encoder=big"}).config;
  EXPECT_EQ(select(c, {"model", "encoder", "depth"})->as_int(), 12);
}

TEST_F(Compose, AppendDeleteAndNullSelections) {
  Node appended = compose("train", {"+aug=strong"}).config;
  EXPECT_TRUE(select(appended, {"aug", "flip"})->as_bool());
  Node deleted = compose("train", {"~optimizer"}).config;
  EXPECT_FALSE(deleted.contains("optimizer"));
  Node nulled = compose("train", {"optimizer=null"}).config;
  EXPECT_FALSE(nulled.contains("optimizer"));
  ComposeResult r = compose("null_choice");
  EXPECT_FALSE(r.config.contains("model"));
  EXPECT_EQ(r.choices[0], (std::pair<std::string, std::string>{"model", "null"}));
}

TEST_F(Compose, SeveralOptionsOfOneGroupMergeInOrder) {
  Node c = compose("null_choice").config;
  EXPECT_EQ(select(c, {"optimizer", "name"})->as_string(), "sgd");
  EXPECT_EQ(select(c, {"optimizer", "momentum"})->as_float(), 0.9);
}

TEST_F(Compose, ExperimentOverridesChoicesMadeElsewhere) {
  ComposeResult r = compose("train", {"+experiment=big"});
  EXPECT_EQ(select(r.config, {"model", "name"})->as_string(), "mlp");
  EXPECT_EQ(select(r.config, {"model", "encoder"}), nullptr);
  EXPECT_EQ(select(r.config, {"optimizer", "lr"})->as_float(), 0.5);
  EXPECT_EQ(select(r.config, {"tags", "0"})->as_string(), "big");
}

TEST_F(Compose, CommandLineBeatsOverrideInAFile) {
  Node c = compose("train", {"+experiment=big", "model=cnn"}).config;
  EXPECT_EQ(select(c, {"model", "name"})->as_string(), "cnn");
  EXPECT_EQ(select(c, {"model", "encoder", "depth"})->as_int(), 2);
}

TEST_F(Compose, OverrideOfAGroupNotInTheTreeIsAnError) {
  // With model=mlp there is no model/encoder left to override.
  ConfigError e = error("train", {"model=mlp", "model/encoder=big"});
  EXPECT_NE(e.diagnostics()[0].message.find("could not override config group 'model/encoder'"), std::string::npos)
      << e.what();
}

TEST_F(Compose, PackageOverridesAndGlobalHeader) {
  Node c = compose("two_optimizers").config;
  EXPECT_EQ(select(c, {"optimizer", "name"})->as_string(), "adamw");
  EXPECT_EQ(select(c, {"second", "name"})->as_string(), "sgd");
  EXPECT_TRUE(select(c, {"debug"})->as_bool());
  Node changed = compose("two_optimizers", {"optimizer@second=adamw"}).config;
  EXPECT_EQ(select(changed, {"second", "name"})->as_string(), "adamw");
}

TEST_F(Compose, KeyOverridesApplyAfterComposition) {
  Node c = compose("train", {"optimizer.lr=0.3", "+extra=1"}).config;
  EXPECT_EQ(select(c, {"optimizer", "lr"})->as_float(), 0.3);
  EXPECT_EQ(select(c, {"optimizer", "lr"})->source().str(), "override #1 'optimizer.lr=0.3'");
  EXPECT_EQ(select(c, {"extra"})->as_int(), 1);
}

TEST_F(Compose, UnknownOptionListsTheAvailableOnes) {
  ConfigError e = error("train", {"model=cnnn"});
  ASSERT_EQ(e.diagnostics().size(), 1u);
  const Diagnostic& d = e.diagnostics()[0];
  EXPECT_EQ(d.source.str(), "override #1 'model=cnnn'");
  EXPECT_NE(d.message.find("could not find option 'cnnn' of config group 'model'; available options: cnn, mlp"),
            std::string::npos)
      << d.message;
  EXPECT_EQ(d.hint, "did you mean 'cnn'?");
}

TEST_F(Compose, EveryBadEntryIsReportedTogetherWithItsFileLine) {
  ConfigError e = error("broken_entries");
  ASSERT_EQ(e.diagnostics().size(), 2u);
  EXPECT_EQ(e.diagnostics()[0].source.str(), kFixtures + "/broken_entries.yaml:2:12");
  EXPECT_EQ(e.diagnostics()[1].source.str(), kFixtures + "/broken_entries.yaml:3:16");
  EXPECT_EQ(e.diagnostics()[1].hint, "did you mean 'sgd'?");
}

TEST_F(Compose, GroupOverrideOutsideTheDefaultsTreeSuggestsAppending) {
  ConfigError e = error("train", {"aug=strong"});
  EXPECT_NE(e.diagnostics()[0].message.find("not in the defaults list"), std::string::npos);
  EXPECT_NE(e.diagnostics()[0].hint.find("+aug=strong"), std::string::npos) << e.diagnostics()[0].hint;
}

TEST_F(Compose, AppendingAGroupAlreadyThereIsAnError) {
  ConfigError e = error("train", {"+model=mlp"});
  EXPECT_NE(e.diagnostics()[0].message.find("already there"), std::string::npos);
  EXPECT_EQ(select(compose("train", {"++model=mlp"}).config, {"model", "name"})->as_string(), "mlp");
}

TEST_F(Compose, UnknownNestedGroupSuggestsTheNearest) {
  ConfigError e = error("train", {"model/encodr=big"});
  EXPECT_NE(e.diagnostics()[0].message.find("no config group 'model/encodr'"), std::string::npos);
  EXPECT_EQ(e.diagnostics()[0].hint, "did you mean 'model/encoder'?");
}

TEST_F(Compose, MissingPrimaryConfig) {
  ConfigError e = error("trian");
  EXPECT_NE(e.diagnostics()[0].message.find("cannot find primary config 'trian'"), std::string::npos);
  EXPECT_NE(e.diagnostics()[0].hint.find("did you mean 'train'?"), std::string::npos) << e.diagnostics()[0].hint;
}

TEST_F(Compose, DefaultsCycleIsAnErrorShowingTheCycle) {
  ConfigError e = error("cycle/a");
  EXPECT_NE(e.diagnostics()[0].message.find("defaults-list cycle: cycle/a -> cycle/b -> cycle/a"), std::string::npos)
      << e.what();
}

TEST_F(Compose, DeclaredListMergeModes) {
  ComposeOptions options;
  options.list_merge_modes = {{"model.channels", ListMerge::kAppend}};
  Node c = compose("train", {}, options).config;
  EXPECT_EQ(select(c, {"model", "channels"})->list_merge(), ListMerge::kAppend);
}

TEST(ComposeSearchPath, ProjectDirectoriesShadowShippedConfigs) {
  SearchPath search_path;
  search_path.add(directory_root(kFixtures));
  search_path.add(embedded_root(shipped_configs(), "kiln"));
  EXPECT_TRUE(search_path.has_group("scheduler"));  // only shipped
  ComposeResult r = Composer(search_path).compose("train", {});
  EXPECT_EQ(select(r.config, {"seed"})->as_int(), 1);  // the fixture's train.yaml wins
  EXPECT_EQ(search_path.options("model"), (std::vector<std::string>{"cnn", "gpt2", "gpt_tiny", "mlp", "resnet"}));
}

TEST(ComposeShipped, DefaultExperimentComposesFromTheEmbeddedConfigs) {
  SearchPath search_path;
  search_path.add(embedded_root(shipped_configs(), "kiln"));
  ComposeResult r = Composer(search_path).compose("train", {});
  EXPECT_EQ(select(r.config, {"model", "_target_"})->as_string(), "cnn");
  EXPECT_EQ(select(r.config, {"trainer", "max_epochs"})->kind(), Kind::kInt);
  EXPECT_EQ(r.defaults_tree.children[0].file, "<kiln>/model/cnn.yaml");
}

}  // namespace
}  // namespace kiln::config

namespace kiln::config {
namespace {

// A Composer parses each file once; a new Composer sees files as they are now.
TEST(ComposeCache, FilesAreParsedOncePerComposer) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kiln_compose_cache_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "train.yaml") << "a: 1\n";
  SearchPath search_path;
  search_path.add(directory_root(dir.string()));
  Composer composer(search_path);
  EXPECT_EQ(select(composer.compose("train", {}).config, {"a"})->as_int(), 1);
  std::ofstream(dir / "train.yaml") << "a: 2\n";
  EXPECT_EQ(select(composer.compose("train", {}).config, {"a"})->as_int(), 1);
  EXPECT_EQ(select(Composer(search_path).compose("train", {}).config, {"a"})->as_int(), 2);
  // Errors are not cached: they are reported again on every compose.
  std::ofstream(dir / "broken.yaml") << "a: [1\n";
  Composer fresh(search_path);
  EXPECT_THROW(fresh.compose("broken", {}), ConfigError);
  EXPECT_THROW(fresh.compose("broken", {}), ConfigError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::config
