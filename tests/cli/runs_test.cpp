// `kiln runs` and `kiln reproduce` end to end: the real binary trains real
// (tiny) runs into a real store, then the commands read it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/track/run_store.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::read_file;
using kiln::testing::shell_quote;

using Result = kiln::testing::CommandResult;

class Runs : public ::testing::Test {
 protected:
  Result kiln(const std::vector<std::string>& args) {
    std::string command = "cd " + shell_quote(dir_.path().string()) + " && " + shell_quote(KILN_BINARY);
    for (const auto& a : args) command += " " + shell_quote(a);
    return kiln::testing::run_command(command, dir_.path());
  }

  // A tiny run of the MLP: a few steps, one checkpoint at the end.
  Result train(std::vector<std::string> extra) {
    std::vector<std::string> args = {"train",
                                     "model=mlp",
                                     "trainer.max_epochs=1",
                                     "trainer.limit_train_batches=12",
                                     "trainer.limit_val_batches=2",
                                     "trainer.limit_test_batches=2",
                                     "trainer.num_sanity_val_steps=0",
                                     "data.num_workers=0",
                                     "trainer.log_every_n_steps=1",
                                     "data.root=" + data_dir().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return kiln(args);
  }

  // A copy of Fashion-MNIST that a test may change.
  fs::path data_dir() {
    fs::path dir = dir_.path() / "data";
    if (!fs::exists(dir)) {
      fs::create_directories(dir);
      for (const auto& entry : fs::directory_iterator("/usr/share/datasets/fashion-mnist"))
        fs::copy_file(entry.path(), dir / entry.path().filename());
    }
    return dir;
  }

  fs::path store_path() const { return dir_.path() / "runs" / "kiln.db"; }

  kiln::testing::TempDir dir_{"kiln_runs"};
};

TEST_F(Runs, EveryTrainLandsInTheStoreAndTheCommandsReadIt) {
  Result a = train({"optimizer.lr=0.001", "run.name=base"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  Result b = train({"optimizer.lr=0.003", "run.name=fast"});
  ASSERT_EQ(b.exit_code, 0) << b.err;

  {
    kiln::track::RunStore store(kiln::track::RunStoreOptions{.path = store_path(), .read_only = true});
    std::vector<kiln::track::RunRecord> runs = store.list_runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].name, "fast");
    EXPECT_EQ(runs[0].status, kiln::track::RunStatus::kFinished);
    EXPECT_EQ(store.metric_series(runs[0].id, "train/loss").size(), 12u);
    bool has_test_acc = false;
    for (const auto& m : store.metric_summaries(runs[0].id)) has_test_acc |= m.key == "test/acc";
    EXPECT_TRUE(has_test_acc);
    bool has_artifact = false;
    for (const auto& artifact : store.artifacts(runs[0].id)) has_artifact |= artifact.path == "metrics.jsonl";
    EXPECT_TRUE(has_artifact);
  }

  Result ls = kiln({"runs", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("base"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("test/acc"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("FINISHED"), std::string::npos) << ls.out;

  Result filtered = kiln({"runs", "ls", "--where", "params.optimizer.lr > 0.002", "--csv"});
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_NE(filtered.out.find("fast"), std::string::npos) << filtered.out;
  EXPECT_EQ(filtered.out.find("base"), std::string::npos) << filtered.out;

  Result bad = kiln({"runs", "ls", "--where", "metrics.val/acc >"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--where"), std::string::npos) << bad.err;

  Result diff = kiln({"runs", "diff", "base", "fast"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("optimizer.lr"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("0.001"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("0.003"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("environment: identical"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("train/loss"), std::string::npos) << diff.out;

  Result show = kiln({"runs", "show", "last", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("\"name\": \"fast\""), std::string::npos) << show.out;

  Result compare = kiln({"runs", "compare", "base", "fast", "--metrics", "test/acc"});
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  EXPECT_NE(compare.out.find("test/acc"), std::string::npos) << compare.out;

  ASSERT_EQ(kiln({"runs", "tag", "base", "reviewed=yes"}).exit_code, 0);
  EXPECT_NE(kiln({"runs", "show", "base"}).out.find("reviewed"), std::string::npos);

  Result missing = kiln({"runs", "show", "no-such-run"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no run 'no-such-run'"), std::string::npos) << missing.err;

  Result refuse = kiln({"runs", "rm", "fast"});  // stdin is not a terminal: it cannot ask
  EXPECT_EQ(refuse.exit_code, 2) << refuse.err;
  std::string fast_dir =
      kiln::track::RunStore(kiln::track::RunStoreOptions{.path = store_path()}).resolve_run("fast")->dir;
  ASSERT_TRUE(fs::exists(fast_dir));
  ASSERT_EQ(kiln({"runs", "rm", "fast", "--yes"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(fast_dir));
  EXPECT_EQ(kiln::track::RunStore(kiln::track::RunStoreOptions{.path = store_path()}).count_runs(), 1);
}

// The check: an unchanged CPU run reproduces bitwise (tolerance 0);
// after the data file changed, reproduce warns and names the first
// divergence.
TEST_F(Runs, ReproducePassesAndFailsWhenDataChanged) {
  ASSERT_EQ(train({"run.name=original"}).exit_code, 0);
  Result pass = kiln({"reproduce", "original"});
  ASSERT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_NE(pass.out.find("PASS"), std::string::npos) << pass.out;
  EXPECT_EQ(pass.out.find(" 0 tensors"), std::string::npos) << pass.out;  // the final weights were compared

  {
    kiln::track::RunStore store(kiln::track::RunStoreOptions{.path = store_path()});
    std::optional<kiln::track::RunRecord> reproduction = store.resolve_run("last");
    EXPECT_EQ(reproduction->name, "original-reproduction");
    EXPECT_EQ(reproduction->tags.at("reproduction_of"), store.resolve_run("original")->id);
  }

  // Invert every pixel of the training images (the gzip is rewritten whole).
  fs::path images = data_dir() / "train-images-idx3-ubyte.gz";
  std::string command =
      "cd " + shell_quote(data_dir().string()) +
      " && gzip -dc train-images-idx3-ubyte.gz | /usr/bin/python3 -c \"import sys; d=sys.stdin.buffer.read(); "
      "sys.stdout.buffer.write(d[:16] + bytes(255 - b for b in d[16:]))\" | gzip -c > t.gz && mv t.gz " +
      images.filename().string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  Result fail = kiln({"reproduce", "original"});
  EXPECT_EQ(fail.exit_code, 1) << fail.out << fail.err;
  EXPECT_NE(fail.err.find("changed since the run"), std::string::npos) << fail.err;
  // Every training metric differs from the first step on.
  EXPECT_NE(fail.out.find("FAIL: first divergence: train/"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find(" at step 1: original "), std::string::npos) << fail.out;
}

}  // namespace
