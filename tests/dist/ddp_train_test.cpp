// `kiln train` data parallel through the real binary: two ranks started by
// `kiln launch` (Gloo on 127.0.0.1) with batch B each end with the weights
// of one process with batch 2B, and only rank zero writes the run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kiln/train/safetensors.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::dist {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::read_file;
using testing::shell_quote;

const std::string kKiln = KILN_BINARY;
// No dropout: each rank draws its own masks, one process others.
const std::string kJob =
    " model=mlp model.dropout=0 trainer.max_steps=12 trainer.max_epochs=1 trainer.num_threads=1"
    " trainer.log_every_n_steps=4 trainer.limit_val_batches=2 trainer.limit_test_batches=2 run.record=false";

// The only run directory under root/fashion_mnist.
fs::path run_dir_under(const fs::path& root) {
  fs::path found;
  for (const auto& entry : fs::directory_iterator(root / "fashion_mnist")) found = entry.path();
  return found;
}

train::TensorMap last_weights(const fs::path& run) {
  std::string last = read_file(run / "checkpoints" / "last");
  while (!last.empty() && (last.back() == '\n' || last.back() == ' ')) last.pop_back();
  return train::load_safetensors(run / "checkpoints" / last / "model.safetensors").tensors;
}

TEST(DdpTrain, TwoRanksUnderKilnLaunchMatchOneProcessWithTwiceTheBatch) {
  testing::TempDir dir;
  const fs::path single = dir.path() / "single", ddp = dir.path() / "ddp";
  CommandResult alone = testing::run_command(
      kKiln + " train" + kJob + " data.batch_size=64 run.root=" + shell_quote(single.string()), dir.path());
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  CommandResult launched = testing::run_command(
      kKiln + " launch --nproc-per-node 2 --master-port 0 --log-dir " + shell_quote((dir.path() / "logs").string()) +
          " -- " + kKiln + " train" + kJob + " data.batch_size=32 run.root=" + shell_quote(ddp.string()),
      dir.path());
  ASSERT_EQ(launched.exit_code, 0) << launched.err;

  const fs::path run = run_dir_under(ddp);
  // One run directory for both ranks: rank 0's files, rank 1's own log.
  EXPECT_TRUE(fs::exists(run / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(run / "train.log"));
  EXPECT_TRUE(fs::exists(run / "train.rank1.log"));
  EXPECT_NE(read_file(run / "train.rank1.log").find("rank 1 of run"), std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(ddp / "fashion_mnist"), fs::directory_iterator{}), 1);

  train::TensorMap a = last_weights(run_dir_under(single));
  train::TensorMap b = last_weights(run);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    // AdamW, 12 steps, float32: the gradients' sums differ in order only.
    const double diff = (tensor - b.at(name)).abs().max().item<double>();
    EXPECT_LT(diff, 1e-5) << name;
  }
  // Trained, not a copy of the initial weights.
  EXPECT_NE(read_file(run / "metrics.jsonl").find("\"step\": 12"), std::string::npos);
}

}  // namespace
}  // namespace kiln::dist
