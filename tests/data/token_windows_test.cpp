// The token-window data modules: window contents and the one-token shift,
// determinism per (seed, epoch), data-parallel slices, mid-epoch resume, the
// validation part, synthetic tokens, and errors naming the file and key.
#include "kiln/data/token_windows.h"

#include <gtest/gtest.h>

#include "kiln/data/token_file.h"
#include "kiln/error.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

// Token i of the file is i % 50000: a window's tokens count up by one, so
// its contents show where in the file it starts.
class TokenWindows : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::uint32_t> tokens(20000);
    for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::uint32_t>(i % 50000);
    write_token_file(path(), tokens, TokenWidth::kUInt16);
  }
  std::string path() const { return (dir_.path() / "tokens.bin").string(); }
  TokenWindowsOptions options() const {
    TokenWindowsOptions o;
    o.train_file = path();
    o.block_size = 16;
    o.batch_size = 4;
    o.train_windows = 40;
    o.eval_windows = 10;
    o.seed = 9;
    return o;
  }
  static std::vector<Batch> epoch(BatchLoader& loader, std::int64_t e, std::size_t start = 0) {
    loader.start_epoch(e, start);
    std::vector<Batch> out;
    while (auto batch = loader.next()) out.push_back(*batch);
    return out;
  }
  static torch::Tensor inputs(const std::vector<Batch>& batches) {
    std::vector<torch::Tensor> parts;
    for (const Batch& b : batches) parts.push_back(b.input);
    return torch::cat(parts);
  }
  testing::TempDir dir_{"kiln_token_windows"};
};

TEST_F(TokenWindows, EachWindowIsAContiguousRunAndTheTargetIsShiftedByOne) {
  TokenWindowsDataModule dm(options());
  auto loader = dm.train_loader();
  EXPECT_EQ(loader->size(), 10u);
  std::vector<Batch> batches = epoch(*loader, 0);
  ASSERT_EQ(batches.size(), 10u);
  const std::int64_t train_end = 20000 - 2000;  // val_fraction 0.1 is held out
  for (const Batch& b : batches) {
    ASSERT_EQ(b.input.sizes(), (std::vector<std::int64_t>{4, 16}));
    EXPECT_EQ(b.input.scalar_type(), torch::kLong);
    EXPECT_TRUE(torch::equal(b.target, b.input + 1));
    EXPECT_TRUE(torch::equal(b.input - b.input.select(1, 0).unsqueeze(1), torch::arange(16).expand({4, 16})));
    // The last target of every window lies in the training part.
    EXPECT_LT(b.target.select(1, 15).max().item<std::int64_t>(), train_end);
  }
}

TEST_F(TokenWindows, TheSameSeedAndEpochGiveTheSameWindowsAndAnotherEpochOthers) {
  TokenWindowsDataModule a(options()), b(options());
  auto la = a.train_loader(), lb = b.train_loader();
  torch::Tensor first = inputs(epoch(*la, 3));
  EXPECT_TRUE(torch::equal(first, inputs(epoch(*lb, 3))));
  EXPECT_FALSE(torch::equal(first, inputs(epoch(*la, 4))));
  TokenWindowsOptions other = options();
  other.seed = 10;
  TokenWindowsDataModule c(other);
  EXPECT_FALSE(torch::equal(first, inputs(epoch(*c.train_loader(), 3))));
}

TEST_F(TokenWindows, RanksTakeDisjointSlicesOfEachGlobalBatch) {
  TokenWindowsOptions global = options();
  global.batch_size = 8;
  TokenWindowsDataModule single(global);
  std::vector<Batch> whole = epoch(*single.train_loader(), 1);
  ASSERT_EQ(whole.size(), 5u);
  std::vector<std::vector<Batch>> per_rank;
  for (std::size_t rank = 0; rank < 2; ++rank) {
    TokenWindowsDataModule dm(options());  // batch_size 4 per rank
    dm.set_replica(rank, 2);
    auto loader = dm.train_loader();
    EXPECT_EQ(loader->size(), 5u);
    per_rank.push_back(epoch(*loader, 1));
  }
  for (std::size_t i = 0; i < whole.size(); ++i)
    EXPECT_TRUE(torch::equal(torch::cat({per_rank[0][i].input, per_rank[1][i].input}), whole[i].input)) << i;
}

TEST_F(TokenWindows, StartingAnEpochAtBatchKGivesTheRestOfThatEpoch) {
  TokenWindowsDataModule dm(options());
  auto loader = dm.train_loader();
  std::vector<Batch> whole = epoch(*loader, 2);
  std::vector<Batch> rest = epoch(*loader, 2, 6);
  ASSERT_EQ(rest.size(), 4u);
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_TRUE(torch::equal(rest[i].input, whole[6 + i].input));
  EXPECT_THROW(loader->start_epoch(2, 11), Error);
  EXPECT_FALSE(loader->next().has_value());
}

TEST_F(TokenWindows, ValidationReadsConsecutiveWindowsOfTheHeldOutTailEveryEpoch) {
  TokenWindowsDataModule dm(options());
  auto loader = dm.val_loader();
  ASSERT_NE(loader, nullptr);
  std::vector<Batch> batches = epoch(*loader, 0);
  torch::Tensor starts = inputs(batches).select(1, 0);
  // Ten windows from token 18000 on, each starting where the last one's
  // inputs ended.
  EXPECT_TRUE(torch::equal(starts, torch::arange(10) * 16 + 18000));
  EXPECT_TRUE(torch::equal(inputs(epoch(*loader, 5)), inputs(batches)));
  EXPECT_EQ(dm.test_loader(), nullptr);

  TokenWindowsOptions separate = options();
  separate.val_file = path();
  separate.test_file = path();
  TokenWindowsDataModule with_files(separate);
  EXPECT_EQ(inputs(epoch(*with_files.val_loader(), 0)).select(1, 0)[0].item<std::int64_t>(), 0);
  EXPECT_NE(with_files.test_loader(), nullptr);
  EXPECT_EQ(with_files.files().size(), 3u);
  EXPECT_EQ(with_files.files()[0].size, 40000u);
}

TEST_F(TokenWindows, ErrorsNameTheFileAndTheKeyToChange) {
  auto message = [](TokenWindowsOptions o) {
    try {
      TokenWindowsDataModule dm(o);
      dm.train_loader();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  TokenWindowsOptions missing = options();
  missing.train_file = (dir_.path() / "absent.bin").string();
  EXPECT_NE(message(missing).find("absent.bin"), std::string::npos);
  TokenWindowsOptions wide = options();
  wide.block_size = 5000;
  EXPECT_NE(message(wide).find("fewer than one window of block_size + 1 = 5001 (data.block_size)"), std::string::npos)
      << message(wide);
  TokenWindowsOptions few = options();
  few.train_windows = 3;
  EXPECT_NE(message(few).find("data.train_windows (3) is less than one global batch"), std::string::npos);
}

TEST(SyntheticTokens, AreDeterministicInRangeAndNewEachEpoch) {
  SyntheticTokensOptions o;
  o.vocab_size = 100;
  o.block_size = 32;
  o.batch_size = 4;
  o.train_windows = 16;
  SyntheticTokensDataModule a(o), b(o);
  auto la = a.train_loader(), lb = b.train_loader();
  la->start_epoch(1);
  lb->start_epoch(1);
  Batch x = *la->next(), y = *lb->next();
  EXPECT_TRUE(torch::equal(x.input, y.input));
  EXPECT_TRUE(torch::equal(x.target.narrow(1, 0, 31), x.input.narrow(1, 1, 31)));
  EXPECT_GE(x.input.min().item<std::int64_t>(), 0);
  EXPECT_LT(x.input.max().item<std::int64_t>(), 100);
  // Roughly uniform: every id shows up among 4 x 33 x 4 draws of 100.
  std::vector<torch::Tensor> all{x.input};
  while (auto batch = la->next()) all.push_back(batch->input);
  EXPECT_GT(std::get<0>(at::_unique(torch::cat(all))).numel(), 90);
  la->start_epoch(2);
  EXPECT_FALSE(torch::equal(la->next()->input, x.input));
  // Validation windows do not change between epochs.
  auto val = a.val_loader();
  val->start_epoch(0);
  torch::Tensor v0 = val->next()->input;
  val->start_epoch(7);
  EXPECT_TRUE(torch::equal(val->next()->input, v0));
}

}  // namespace
}  // namespace kiln::data
