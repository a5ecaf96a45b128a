// The pieces of `kiln train`'s output that are pure functions: the log-file
// view of stderr, and the multirun summary table.
#include <gtest/gtest.h>

#include "stderr_tee.h"
#include "sweep_summary.h"

namespace kiln::cli {
namespace {

TEST(PlainLines, ACarriageReturnRedrawLeavesTheLastState) {
  std::string pending;
  EXPECT_EQ(plain_lines("step 1/3\rstep 2/3\rstep 3/3\n", pending), "step 3/3\n");
  EXPECT_TRUE(pending.empty());
}

TEST(PlainLines, AnUnfinishedLineWaitsForTheNextChunk) {
  std::string pending;
  EXPECT_EQ(plain_lines("epoch 1 ", pending), "");
  EXPECT_EQ(plain_lines("done\nnext", pending), "epoch 1 done\n");
  EXPECT_EQ(pending, "next");
}

TEST(PlainLines, CrLfEndsALineWithoutErasingIt) {
  std::string pending;
  EXPECT_EQ(plain_lines("a\r\nb\r\n", pending), "a\nb\n");
}

TEST(PlainLines, EscapeSequencesAreDropped) {
  std::string pending;
  EXPECT_EQ(plain_lines("\033[2K\033[1;32mok\033[0m\n", pending), "ok\n");
}

TEST(SweepTable, ListsTestThenValMetricsAndMarksMissingOnes) {
  std::vector<SweepRow> rows = {
      {0, "optimizer.lr=0.1", "FINISHED", "runs/multirun/x/0", 12.25, {{"test/acc", 0.91}, {"val/acc", 0.9}}},
      {1, "optimizer.lr=10", "FAILED", "runs/multirun/x/1", 0, {}},
  };
  EXPECT_EQ(format_sweep_table(rows),
            "#  status    test/acc  val/acc  seconds  overrides\n"
            "0  FINISHED  0.9100    0.9000   12.2     optimizer.lr=0.1\n"
            "1  FAILED    -         -        0.0      optimizer.lr=10\n");
}

TEST(SweepTable, TrainMetricsAreLeftOut) {
  std::vector<SweepRow> rows = {{0, "", "FINISHED", "d", 1, {{"train/loss", 0.5}}}};
  EXPECT_EQ(format_sweep_table(rows), "#  status    seconds  overrides\n0  FINISHED  1.0      (none)\n");
}

}  // namespace
}  // namespace kiln::cli
