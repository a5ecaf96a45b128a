// The default experiment names its data by catalog reference
// (data.dataset: fashion_mnist@1): kiln train binds it, the manifest records
// it, the recorded config stays portable, and a dataset that cannot be made
// local stops the run before anything is written.
#include <gtest/gtest.h>

#include <filesystem>

#include "kiln/track/env.h"
#include "kiln/track/json.h"
#include "kiln/track/sha256.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::shell_quote;
using kiln::track::JsonValue;

class TrainDataset : public ::testing::Test {
 protected:
  kiln::testing::TempDir dir_{"kiln_train_dataset"};
  fs::path cache_ = dir_.path() / "cache";

  kiln::testing::CommandResult train(const std::string& args, const std::string& env = "") {
    std::string command =
        "cd " + shell_quote(dir_.path().string()) + " && KILN_CACHE_DIR=" + shell_quote(cache_.string()) + " " + env +
        " " + shell_quote(KILN_BINARY) + " train model=mlp trainer.fast_dev_run=1 data.num_workers=0 " + args;
    return kiln::testing::run_command(command, dir_.path());
  }

  std::vector<fs::path> runs() {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& experiment : fs::directory_iterator(dir_.path() / "runs", ec))
      if (experiment.is_directory())
        for (const auto& run : fs::directory_iterator(experiment.path()))
          if (fs::exists(run.path() / ".kiln/manifest.json")) out.push_back(run.path());
    return out;
  }
};

const JsonValue& at(const JsonValue& v, const char* key) {
  const JsonValue* found = v.find(key);
  if (!found) throw std::runtime_error(std::string("missing key ") + key);
  return *found;
}

TEST_F(TrainDataset, DefaultExperimentRecordsNameVersionAndHashes) {
  auto r = train("");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(runs().size(), 1u);
  fs::path run = runs()[0];
  JsonValue m = kiln::track::parse_json(kiln::testing::read_file(run / ".kiln/manifest.json"));
  const JsonValue& dataset = at(m, "dataset");
  EXPECT_EQ(at(dataset, "ref").text(), "fashion_mnist@1");
  EXPECT_EQ(at(dataset, "name").text(), "fashion_mnist");
  EXPECT_EQ(*at(dataset, "version").as_int64(), 1);
  EXPECT_EQ(at(dataset, "root").text(), "/usr/share/datasets/fashion-mnist");
  EXPECT_TRUE(at(dataset, "in_place").as_bool());
  const auto& files = at(dataset, "files").items();
  ASSERT_EQ(files.size(), 4u);
  for (const JsonValue& f : files)
    EXPECT_EQ(at(f, "sha256").text(),
              kiln::sha256_file_hex(fs::path("/usr/share/datasets/fashion-mnist") / at(f, "path").text()));
  // The recorded config names the dataset, not this machine's directory.
  std::string resolved = kiln::testing::read_file(run / ".kiln/resolved.yaml");
  EXPECT_NE(resolved.find("dataset: fashion_mnist@1"), std::string::npos) << resolved;
  EXPECT_NE(resolved.find("root: null"), std::string::npos) << resolved;
  EXPECT_TRUE(fs::exists(cache_ / "datasets/fashion_mnist/1/.kiln-verified.json"));
}

TEST_F(TrainDataset, ExplicitRootStillWinsAndRecordsNoDataset) {
  auto r = train("data.root=/usr/share/datasets/fashion-mnist");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  JsonValue m = kiln::track::parse_json(kiln::testing::read_file(runs()[0] / ".kiln/manifest.json"));
  EXPECT_TRUE(at(m, "dataset").is_null());
  EXPECT_EQ(at(m, "data").items().size(), 4u);
  EXPECT_FALSE(fs::exists(cache_ / "datasets"));  // the catalog was not consulted
}

TEST_F(TrainDataset, UnknownOrUnavailableDatasetStopsBeforeTheRun) {
  auto typo = train("data.dataset=fashion_mnst");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("override #4 'data.dataset=fashion_mnst': error: data.dataset: unknown dataset "
                          "'fashion_mnst' (the catalogs define "),
            std::string::npos)
      << typo.err;
  EXPECT_NE(typo.err.find("hint: did you mean 'fashion_mnist'?"), std::string::npos) << typo.err;

  kiln::Env::Default().write_file(dir_.path() / "cat.yaml",
                                  "kiln_catalog: 1\ndatasets:\n  - name: remote\n    version: 1\n    sources: "
                                  "[http://127.0.0.1:9/remote]\n    files:\n      - {path: a.bin, size: 3, sha256: " +
                                      kiln::sha256_hex("abc") + "}\n");
  auto offline = train("data.dataset=remote@1", "KILN_OFFLINE=1 KILN_CATALOG=cat.yaml");
  EXPECT_EQ(offline.exit_code, 74);
  EXPECT_NE(offline.err.find("cannot make dataset remote@1"), std::string::npos) << offline.err;
  EXPECT_NE(offline.err.find("offline (KILN_OFFLINE=1)"), std::string::npos) << offline.err;
  EXPECT_TRUE(runs().empty());
}

}  // namespace
