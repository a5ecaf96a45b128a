// kiln data pack, then kiln train from the shards, through the real binary.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::run_command;
using kiln::testing::shell_quote;

class ShardsTrain : public ::testing::Test {
 protected:
  kiln::testing::CommandResult kiln(const std::string& args) {
    return run_command("cd " + shell_quote(dir_.path().string()) + " && " + shell_quote(KILN_BINARY) + " " + args,
                       dir_.path());
  }
  kiln::testing::TempDir dir_{"kiln_shards_train"};
};

TEST_F(ShardsTrain, PackThenTrainFromShardsWithMaxSteps) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "needs dataset-fashion-mnist";
  auto pack = kiln("data pack --from fashion_mnist --out shards --shard-size 16MB");
  ASSERT_EQ(pack.exit_code, 0) << pack.err;
  EXPECT_NE(pack.out.find("shards/train.shards.json: 54000 samples in 9 shards"), std::string::npos) << pack.out;
  EXPECT_TRUE(fs::exists(dir_.path() / "shards/train-000008.tar"));
  EXPECT_TRUE(fs::exists(dir_.path() / "shards/test-000000.idx"));
  auto train = kiln(
      "train data=fashion_mnist_shards data.root=shards model=mlp trainer.max_steps=6 trainer.limit_val_batches=1 "
      "trainer.limit_test_batches=1");
  ASSERT_EQ(train.exit_code, 0) << train.err << train.out;
  // The run ran six steps on shard data and recorded the shards it read.
  bool found = false;
  for (const auto& experiment : fs::directory_iterator(dir_.path() / "runs")) {
    if (!experiment.is_directory()) continue;
    for (const auto& run : fs::directory_iterator(experiment.path())) {
      const std::string manifest = kiln::testing::read_file(run.path() / ".kiln/manifest.json");
      if (manifest.empty()) continue;
      found = true;
      EXPECT_NE(manifest.find("train-000000.tar"), std::string::npos) << manifest;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ShardsTrain, PackUsageErrorsNameTheFlagAndTheAcceptedForms) {
  auto r = kiln("data pack --from fashion_mnist --out shards --shard-size 12XB");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--shard-size: '12XB' is not a byte size: unknown unit 'XB'"), std::string::npos) << r.err;
  r = kiln("data pack --from imagenet --out shards");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown source 'imagenet' (expected fashion_mnist)"), std::string::npos) << r.err;
}

}  // namespace
