// run.upload_to end to end: the real `kiln train` uploads its finished run
// directory to a real S3-compatible server (s3rver on 127.0.0.1).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "kiln/data/s3.h"
#include "support/s3rver.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::shell_quote;

constexpr const char* kBucket = "kiln-runs";

class RunUpload : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef KILN_S3RVER_JS
    GTEST_SKIP() << "s3rver is not installed (needs node and npm at configure time; see "
                    "tests/data_catalog/s3rver.cmake)";
#else
    server_ = std::make_unique<kiln::testing::S3rver>(KILN_NODE, KILN_S3RVER_JS, dir_.path() / "s3", kBucket);
#endif
  }

  // `kiln train` for two steps in the temp dir, against the server.
  kiln::testing::CommandResult train(const std::string& upload_to) {
    const std::string env =
        "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 "
        "AWS_ENDPOINT_URL=" +
        server_->endpoint();
    const std::string command =
        "cd " + shell_quote(dir_.path().string()) + " && " + env + " " + shell_quote(KILN_BINARY) +
        " train trainer.max_steps=2 trainer.limit_val_batches=1 trainer.limit_test_batches=1 trainer.max_epochs=1 " +
        shell_quote("run.upload_to=" + upload_to);
    return kiln::testing::run_command(command, dir_.path());
  }

  fs::path only_run() const {
    std::vector<fs::path> runs;
    for (const auto& e : fs::directory_iterator(dir_.path() / "runs" / "fashion_mnist")) runs.push_back(e.path());
    EXPECT_EQ(runs.size(), 1u);
    return runs.empty() ? fs::path() : runs.front();
  }

  kiln::data::S3Config s3() const { return {server_->endpoint(), "us-east-1", {"S3RVER", "S3RVER", ""}}; }

  kiln::testing::TempDir dir_{"kiln_run_upload"};
  std::unique_ptr<kiln::testing::S3rver> server_;
};

TEST_F(RunUpload, AFinishedRunLandsUnderPrefixExperimentAndRun) {
  const auto r = train(std::string("s3://") + kBucket + "/team/");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path run = only_run();
  const std::string prefix = "team/fashion_mnist/" + run.filename().string() + "/";
  EXPECT_NE(r.err.find("to s3://kiln-runs/" + prefix.substr(0, prefix.size() - 1) + "\n"), std::string::npos) << r.err;

  std::map<std::string, std::uintmax_t> local;
  for (const auto& e : fs::recursive_directory_iterator(run))
    if (e.is_regular_file()) local[fs::relative(e.path(), run).generic_string()] = e.file_size();
  std::map<std::string, std::uintmax_t> remote;
  for (const auto& object : kiln::data::s3_list_objects(s3(), {kBucket, "team/"})) {
    ASSERT_TRUE(object.key.starts_with(prefix)) << object.key;
    remote[object.key.substr(prefix.size())] = object.size;
  }
  EXPECT_EQ(remote, local);  // every file, each with its size
  EXPECT_TRUE(local.count(".kiln/manifest.json") && local.count("metrics.jsonl")) << "too few files to mean much";
  EXPECT_NE(r.err.find("kiln: uploaded " + std::to_string(local.size()) + " files"), std::string::npos) << r.err;
}

TEST_F(RunUpload, AnUnreachableBucketFailsTheCommandNotTheRun) {
  const auto r = train("s3://no-such-bucket/x");
  EXPECT_EQ(r.exit_code, 74) << r.err;
  EXPECT_NE(r.err.find("run.upload_to: uploading "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NoSuchBucket"), std::string::npos) << r.err;
  // Training finished and says so; only the copy failed.
  EXPECT_NE(kiln::testing::read_file(only_run() / ".kiln/manifest.json").find("\"status\": \"FINISHED\""),
            std::string::npos);
}

TEST_F(RunUpload, ATargetThatIsNotS3IsAConfigErrorBeforeTraining) {
  const auto r = train("https://example.com/runs");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("run.upload_to: expected s3://bucket/prefix, found 'https://example.com/runs'"),
            std::string::npos)
      << r.err;
  bool trained = false;
  if (fs::exists(dir_.path() / "runs"))
    for (const auto& e : fs::recursive_directory_iterator(dir_.path() / "runs"))
      trained = trained || e.path().filename() == "metrics.jsonl";
  EXPECT_FALSE(trained) << "it trained before refusing the target";
}

}  // namespace
