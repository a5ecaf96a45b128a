// `kiln train` data parallel through the real binary: two ranks started by
// `kiln launch` (Gloo on 127.0.0.1) with batch B each end with the weights
// of one process with batch 2B, under every strategy, and only rank zero
// writes the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "kiln/dist/launcher.h"
#include "kiln/train/checkpoint.h"
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

// The checkpoint directory `last` names.
fs::path last_checkpoint(const fs::path& run) {
  return train::find_checkpoint(run / "checkpoints").value_or(fs::path());
}

train::TensorMap last_weights(const fs::path& run) {
  return train::load_safetensors(last_checkpoint(run) / "model.safetensors").tensors;
}

// `kiln train` + `job` in one process with `alone` appended, then on two
// ranks under `kiln launch` with `launched` appended; both must succeed.
void train_alone_and_on_two_ranks(const fs::path& dir, const std::string& job, const std::string& alone,
                                  const std::string& launched) {
  CommandResult one = testing::run_command(kKiln + " train" + job + alone, dir);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  CommandResult two =
      testing::run_command(kKiln + " launch --nproc-per-node 2 --master-port 0 --log-dir " +
                               shell_quote((dir / "logs").string()) + " -- " + kKiln + " train" + job + launched,
                           dir);
  ASSERT_EQ(two.exit_code, 0) << two.err;
}

// `extra`: overrides for both runs; `first_layer`: the model's first
// layer's name in the checkpoint.
void expect_two_ranks_match_one_process(const std::string& strategy, const std::string& extra = "",
                                        const std::string& first_layer = "network.layers.0") {
  testing::TempDir dir;
  const fs::path single = dir.path() / "single", ddp = dir.path() / "ddp";
  train_alone_and_on_two_ranks(
      dir.path(), kJob + extra, " data.batch_size=64 run.root=" + shell_quote(single.string()),
      " trainer.strategy=" + strategy + " data.batch_size=32 run.root=" + shell_quote(ddp.string()));
  if (::testing::Test::HasFatalFailure()) return;

  const fs::path run = run_dir_under(ddp);
  // One run directory for both ranks: rank 0's files, rank 1's own log.
  EXPECT_TRUE(fs::exists(run / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(run / "train.log"));
  EXPECT_TRUE(fs::exists(run / "train.rank1.log"));
  EXPECT_NE(read_file(run / "train.rank1.log").find("rank 1 of run"), std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(ddp / "fashion_mnist"), fs::directory_iterator{}), 1);

  // ZeRO: the checkpoint holds each rank's optimizer shard and their layout.
  const fs::path checkpoint = last_checkpoint(run);
  const bool zero = strategy.rfind("zero", 0) == 0 || strategy == "fsdp";
  EXPECT_EQ(fs::exists(checkpoint / "zero.json"), zero) << strategy;
  EXPECT_EQ(fs::exists(checkpoint / "optimizer.rank1.pt"), zero) << strategy;
  EXPECT_EQ(fs::exists(checkpoint / "optimizer.pt"), !zero) << strategy;
  if (zero) {
    // The flat layout names every trainable parameter and the stage.
    const std::string layout = read_file(checkpoint / "zero.json");
    EXPECT_NE(layout.find("\"world_size\": 2"), std::string::npos) << layout;
    EXPECT_NE(layout.find("\"stage\": " + std::string(strategy == "fsdp" ? "3" : strategy.substr(4))),
              std::string::npos)
        << layout;
    EXPECT_NE(layout.find("\"name\": \"" + first_layer + ".weight\""), std::string::npos) << layout;
  }

  train::TensorMap a = last_weights(run_dir_under(single));
  train::TensorMap b = last_weights(run);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    // AdamW, 12 steps, float32: the gradients' sums differ in order only.
    const double diff = (tensor - b.at(name)).abs().max().item<double>();
    EXPECT_LT(diff, 1e-5) << name << " under " << strategy;
  }
  // Trained, not a copy of the initial weights.
  EXPECT_NE(read_file(run / "metrics.jsonl").find("\"step\": 12"), std::string::npos);
}

// The default experiment's model (the CNN) under every strategy; the MLP
// under zero3 below, and a GPT.
TEST(DdpTrain, TwoRanksUnderKilnLaunchMatchOneProcessWithTwiceTheBatch) {
  expect_two_ranks_match_one_process("ddp", " model=cnn", "network.features.0");
}

TEST(DdpTrain, ZeroStageOneMatchesOneProcess) {
  expect_two_ranks_match_one_process("zero1", " model=cnn", "network.features.0");
}

TEST(DdpTrain, ZeroStageTwoMatchesOneProcess) {
  expect_two_ranks_match_one_process("zero2", " model=cnn", "network.features.0");
}

// Stage 3 gathers the MLP's layers one at a time; the validation, the test
// after fit, the checkpoints and a callback that reads every parameter
// (weight histograms, under summon_full_params) all see whole weights.
TEST(DdpTrain, ZeroStageThreeMatchesOneProcess) {
  expect_two_ranks_match_one_process(
      "zero3", " +callbacks.histograms._target_=weight_histograms +callbacks.histograms.every_n_steps=4");
}

// The CNN's convolutions as units, by FSDP's name.
TEST(DdpTrain, FsdpShardsTheCnnAndMatchesOneProcess) {
  expect_two_ranks_match_one_process("fsdp", " model=cnn", "network.features.0");
}

// The GPT's blocks are its units; the tied embedding and the final
// LayerNorm stay gathered through the step (FSDP's root). `precision` and
// `tolerance`: fp32 agrees to float rounding (measured 3e-8); bf16-mixed
// rounds each rank's smaller matrix products differently (measured 1e-4,
// while 6 AdamW steps at lr 1e-3 move weights by up to 6e-3).
void expect_zero3_gpt_matches_one_process(const std::string& precision, double tolerance) {
  testing::TempDir dir;
  const std::string job =
      " +recipe=gpt_tiny data=synthetic_tokens model.n_layer=2 model.n_embd=32 model.n_head=2 model.block_size=16 "
      "data.train_windows=256 data.eval_windows=16 optimizer.weight_decay_1d=true trainer.max_steps=6 "
      "trainer.max_epochs=1 trainer.num_threads=1 trainer.log_every_n_steps=2 run.record=false "
      "trainer.precision=" +
      precision;
  const fs::path single = dir.path() / "single", sharded = dir.path() / "sharded";
  train_alone_and_on_two_ranks(dir.path(), job, " data.batch_size=8 run.root=" + shell_quote(single.string()),
                               " trainer.strategy=zero3 data.batch_size=4 run.root=" + shell_quote(sharded.string()));
  if (::testing::Test::HasFatalFailure()) return;
  auto run_of = [](const fs::path& root) {
    fs::path found;
    for (const auto& entry : fs::directory_iterator(root / "gpt_tiny")) found = entry.path();
    return found;
  };
  const fs::path run = run_of(sharded);
  EXPECT_NE(read_file(last_checkpoint(run) / "zero.json").find("\"stage\": 3"), std::string::npos);
  train::TensorMap a = last_weights(run_of(single)), b = last_weights(run);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [name, tensor] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const double diff = (tensor - b.at(name)).abs().max().item<double>();
    worst = std::max(worst, diff);
    EXPECT_LT(diff, tolerance) << name << " under " << precision;
  }
  std::printf("zero3 GPT, %s: largest difference from one process %.3g\n", precision.c_str(), worst);
}

TEST(DdpTrain, ZeroStageThreeTrainsAGptAsOneProcessDoes) { expect_zero3_gpt_matches_one_process("32", 1e-5); }

TEST(DdpTrain, ZeroStageThreeTrainsAGptInBf16MixedAsOneProcessDoes) {
  expect_zero3_gpt_matches_one_process("bf16-mixed", 1e-3);
}

// Six steps under one strategy, six more resumed under another, against
// twelve in one process: the optimizer state crosses between ZeRO's shards
// and whole parameters in both directions. A constant learning rate, so the
// legs' schedules agree.
void expect_resume_across_strategies(const std::string& first, const std::string& second) {
  testing::TempDir dir;
  const std::string job = kJob + " scheduler=constant";
  auto train = [&](const std::string& strategy, const std::string& extra) {
    const bool sharded = strategy != "single";
    const std::string cmd = kKiln + " train" + job + extra +
                            (sharded ? " trainer.strategy=" + strategy + " data.batch_size=32" : " data.batch_size=64");
    return testing::run_command(sharded ? kKiln + " launch --nproc-per-node 2 --master-port 0 --log-dir " +
                                              shell_quote((dir.path() / "logs").string()) + " -- " + cmd
                                        : cmd,
                                dir.path());
  };
  const fs::path reference = dir.path() / "reference", legs = dir.path() / "legs";
  CommandResult alone = train("single", " run.root=" + shell_quote(reference.string()));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  CommandResult start = train(first, " trainer.max_steps=6 run.root=" + shell_quote(legs.string()));
  ASSERT_EQ(start.exit_code, 0) << start.err;
  const fs::path run = run_dir_under(legs);
  EXPECT_EQ(fs::exists(last_checkpoint(run) / "zero.json"), first != "single");
  CommandResult rest =
      train(second, " trainer.resume=" + shell_quote(run.string()) + " run.root=" + shell_quote(legs.string()));
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(fs::exists(last_checkpoint(run) / "zero.json"), second != "single");
  EXPECT_NE(read_file(run / "metrics.jsonl").find("\"step\": 12"), std::string::npos);
  train::TensorMap a = last_weights(run_dir_under(reference)), b = last_weights(run);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a)
    EXPECT_LT((tensor - b.at(name)).abs().max().item<double>(), 1e-5) << name << ": " << first << " -> " << second;
}

// One process with an explicit strategy runs it in a group of one (as
// Lightning's strategy="ddp" on one device does): the same weights as the
// plain process, and ZeRO's sharded checkpoint, of one rank.
TEST(DdpTrain, AnExplicitStrategyOnOneProcessRunsInAGroupOfOne) {
  testing::TempDir dir;
  auto train = [&](const std::string& extra, const fs::path& root) {
    return testing::run_command(
        kKiln + " train" + kJob + " data.batch_size=64" + extra + " run.root=" + shell_quote(root.string()),
        dir.path());
  };
  CommandResult alone = train("", dir.path() / "auto");
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  train::TensorMap reference = last_weights(run_dir_under(dir.path() / "auto"));
  for (const std::string strategy : {"ddp", "zero2", "zero3"}) {
    CommandResult r = train(" trainer.strategy=" + strategy, dir.path() / strategy);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path run = run_dir_under(dir.path() / strategy);
    EXPECT_EQ(fs::exists(last_checkpoint(run) / "zero.json"), strategy != "ddp");
    if (strategy != "ddp")
      EXPECT_NE(read_file(last_checkpoint(run) / "zero.json").find("\"world_size\": 1"), std::string::npos);
    train::TensorMap weights = last_weights(run);
    for (const auto& [name, tensor] : reference)
      EXPECT_LT((tensor - weights.at(name)).abs().max().item<double>(), 1e-6) << name << " under " << strategy;
  }
}

// The same six steps in one process and under ZeRO-3 on two ranks (whose
// checkpoints share stage 2's layout), consolidated: the same weights and
// the same Adam moments per parameter.
TEST(DdpTrain, ConsolidatedZeroCheckpointHoldsWhatOneProcessHolds) {
  testing::TempDir dir;
  const std::string job = kJob + " scheduler=constant trainer.max_steps=6";
  const fs::path single = dir.path() / "single", zero = dir.path() / "zero";
  train_alone_and_on_two_ranks(dir.path(), job, " data.batch_size=64 run.root=" + shell_quote(single.string()),
                               " trainer.strategy=zero3 data.batch_size=32 run.root=" + shell_quote(zero.string()));
  if (::testing::Test::HasFatalFailure()) return;
  const fs::path a = dir.path() / "single.safetensors", b = dir.path() / "zero.safetensors";
  for (const auto& [run, out] : {std::pair{run_dir_under(single), a}, std::pair{run_dir_under(zero), b}}) {
    CommandResult r = testing::run_command(
        kKiln + " checkpoint consolidate " + shell_quote(run.string()) + " --out " + shell_quote(out.string()),
        dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("wrote "), std::string::npos) << r.out;
  }
  train::SafetensorsContents one = train::load_safetensors(a), two = train::load_safetensors(b);
  EXPECT_EQ(two.metadata.at("format"), "kiln.consolidated");
  EXPECT_EQ(two.metadata.at("optimizer"), "adamw");
  EXPECT_EQ(two.metadata.at("step"), "6");
  // Weights, buffers, and exp_avg / exp_avg_sq of the MLP's 6 parameters.
  ASSERT_EQ(one.tensors.size(), two.tensors.size());
  EXPECT_TRUE(two.tensors.count("optimizer.exp_avg.network.layers.0.weight"));
  EXPECT_EQ(two.tensors.at("optimizer.exp_avg_sq.network.layers.0.weight").sizes(),
            two.tensors.at("network.layers.0.weight").sizes());
  std::size_t moments = 0;
  for (const auto& [name, tensor] : one.tensors) {
    ASSERT_TRUE(two.tensors.count(name)) << name;
    moments += name.rfind("optimizer.", 0) == 0;
    EXPECT_LT((tensor - two.tensors.at(name)).abs().max().item<double>(), 1e-5) << name;
  }
  EXPECT_EQ(moments, 12u);
  CommandResult bad = testing::run_command(
      kKiln + " checkpoint consolidate " + shell_quote(dir.path().string()) + " --out x.safetensors", dir.path());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is not a run directory"), std::string::npos) << bad.err;
  bad =
      testing::run_command(kKiln + " checkpoint consolidate " + shell_quote(run_dir_under(zero).string()), dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--out FILE.safetensors is required"), std::string::npos) << bad.err;
}

TEST(DdpTrain, ZeroCheckpointResumesInOneProcess) { expect_resume_across_strategies("zero2", "single"); }

TEST(DdpTrain, OneProcessCheckpointResumesUnderZero) { expect_resume_across_strategies("single", "zero1"); }

TEST(DdpTrain, ZeroStageThreeCheckpointResumesInOneProcess) { expect_resume_across_strategies("zero3", "single"); }

TEST(DdpTrain, OneProcessCheckpointResumesUnderFsdp) { expect_resume_across_strategies("single", "fsdp"); }

}  // namespace
}  // namespace kiln::dist

namespace kiln::dist {
namespace {

// `kiln launch --max-restarts 1` over two ranks of a run with the given id;
// on the first attempt, rank 1 is killed with SIGKILL as soon as the run's
// first checkpoint exists when `kill_rank_one` is set.
CommandResult launch_checkpointed_run(const fs::path& dir, const std::string& run_id, bool kill_rank_one,
                                      const std::string& strategy = "auto", int max_steps = 300) {
  const fs::path root = dir / run_id;
  const std::string train = kKiln + " train trainer.strategy=" + strategy +
                            " trainer.max_steps=" + std::to_string(max_steps) +
                            " model=mlp model.dropout=0 trainer.max_epochs=1"
                            " trainer.num_threads=1 trainer.log_every_n_steps=50 trainer.limit_val_batches=2"
                            " trainer.limit_test_batches=2 run.record=false data.batch_size=32"
                            " callbacks.model_checkpoint.every_n_train_steps=20 run.root=" +
                            shell_quote(root.string());
  const std::string last = (root / "fashion_mnist" / run_id / "checkpoints" / "last").string();
  // The watcher kills the worker's own pid: `exec` makes the shell's pid kiln's.
  const std::string killer =
      "if [ \"$RANK\" = 1 ] && [ \"$TORCHELASTIC_RESTART_COUNT\" = 0 ]; then "
      "(while [ ! -e " +
      shell_quote(last) + " ]; do sleep 0.01; done; kill -9 $$) & fi; ";
  const std::string worker = (kill_rank_one ? killer : std::string()) + "exec " + train;
  return testing::run_command("KILN_RUN_ID=" + run_id + " " + kKiln + " launch --nproc-per-node 2 --master-port 0" +
                                  " --max-restarts 1 --log-dir " + shell_quote((dir / (run_id + "-logs")).string()) +
                                  " -- sh -c " + shell_quote(worker),
                              dir);
}

// `strategy` on 2 ranks; rank 1 killed (SIGKILL) once the first checkpoint
// exists: the launcher restarts the group, which resumes and ends with the
// uninterrupted run's weights, bit for bit.
void expect_restart_after_killed_worker_ends_as_if_never_stopped(const std::string& strategy, int max_steps) {
  testing::TempDir dir;
  CommandResult whole = launch_checkpointed_run(dir.path(), "uninterrupted", false, strategy, max_steps);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  CommandResult killed = launch_checkpointed_run(dir.path(), "killed", true, strategy, max_steps);
  ASSERT_EQ(killed.exit_code, 0) << killed.err;
  const std::string said = killed.out + killed.err;
  EXPECT_NE(said.find("rank 1"), std::string::npos) << said;
  EXPECT_NE(said.find("killed by signal 9"), std::string::npos) << said;
  EXPECT_NE(said.find("resuming from"), std::string::npos) << said;

  const fs::path a = dir.path() / "uninterrupted" / "fashion_mnist" / "uninterrupted";
  const fs::path b = dir.path() / "killed" / "fashion_mnist" / "killed";
  EXPECT_EQ(last_checkpoint(a).filename(), last_checkpoint(b).filename());
  train::TensorMap before = last_weights(a), after = last_weights(b);
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, tensor] : before) {
    ASSERT_TRUE(after.count(name)) << name;
    // Resuming is bitwise on CPU, and so is Gloo's sum for the same inputs.
    EXPECT_TRUE(torch::equal(tensor, after.at(name))) << name << " under " << strategy;
  }
}

TEST(DdpTrain, AGroupRestartedAfterAKilledWorkerResumesAndEndsAsIfNeverStopped) {
  expect_restart_after_killed_worker_ends_as_if_never_stopped("auto", 300);
}

TEST(DdpTrain, AZeroThreeGroupRestartedAfterAKilledWorkerEndsAsIfNeverStopped) {
  expect_restart_after_killed_worker_ends_as_if_never_stopped("zero3", 100);
}

}  // namespace
}  // namespace kiln::dist

namespace kiln::dist {
namespace {

// The real torchrun of Debian's python3-torch (1.13: underscore flags, and
// `-r 1 -t 1` under Python 3.11) starting `kiln train` with ZeRO-2: the
// ranks find each other from torchrun's variables and write one run.
TEST(DdpTrain, TrainsUnderTheRealTorchrun) {
  ASSERT_TRUE(fs::exists("/usr/bin/torchrun")) << "torchrun comes with python3-torch: run scripts/install-deps.sh";
  testing::TempDir dir;
  const fs::path root = dir.path() / "runs";
  // Plain torchrun gives the ranks nothing unique to share: KILN_RUN_ID names the run.
  CommandResult result = testing::run_command(
      "KILN_RUN_ID=under-torchrun /usr/bin/torchrun --nproc_per_node 2 --master_port " +
          std::to_string(free_loopback_port()) + " --no_python -r 1 -t 1 " + kKiln + " train" + kJob +
          " trainer.strategy=zero2 data.batch_size=32 run.root=" + shell_quote(root.string()),
      dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const fs::path run = root / "fashion_mnist" / "under-torchrun";
  EXPECT_TRUE(fs::exists(run / "train.rank1.log"));
  EXPECT_TRUE(fs::exists(last_checkpoint(run) / "zero.json"));
  EXPECT_NE(read_file(run / "metrics.jsonl").find("\"step\": 12"), std::string::npos);
}

}  // namespace
}  // namespace kiln::dist

namespace kiln::dist {
namespace {

// Lightning's `devices=N`: `kiln train` starts its N workers itself.
TEST(DdpTrain, TrainerDevicesStartsTheWorkersItself) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "runs";
  CommandResult result = testing::run_command(kKiln + " train" + kJob +
                                                  " trainer.devices=2 trainer.strategy=zero1 data.batch_size=32"
                                                  " run.root=" +
                                                  shell_quote(root.string()),
                                              dir.path());
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.err.find("trainer.devices=2: starting 2 workers"), std::string::npos) << result.err;
  const fs::path run = run_dir_under(root);
  EXPECT_TRUE(fs::exists(run / "train.rank1.log"));
  EXPECT_TRUE(fs::exists(last_checkpoint(run) / "optimizer.rank1.pt"));
}

TEST(DdpTrain, TrainerDevicesMustMatchTheRanksALauncherStarted) {
  testing::TempDir dir;
  CommandResult result =
      testing::run_command(kKiln + " launch --nproc-per-node 2 --master-port 0 -- " + kKiln + " train" + kJob +
                               " trainer.devices=3 run.root=" + shell_quote((dir.path() / "runs").string()),
                           dir.path());
  EXPECT_NE(result.exit_code, 0);
  const std::string said = result.out + result.err;
  EXPECT_NE(said.find("trainer.devices"), std::string::npos) << said;
  EXPECT_NE(said.find("the config asks for 3 devices, but the launcher started 2 ranks on this node"),
            std::string::npos)
      << said;
}

}  // namespace
}  // namespace kiln::dist
