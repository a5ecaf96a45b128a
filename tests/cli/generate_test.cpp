// The language-model workflow through the real binary: kiln data tokenize,
// kiln train +recipe=gpt_tiny (the loss falls), kiln generate from the
// run (deterministic per seed, streamed), the bf16 CPU path, and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::run_command;
using kiln::testing::shell_quote;

// One run of the tiny GPT on kiln's own docs, shared by the tests (training
// takes seconds; each test would repeat it).
class LanguageModelWorkflow : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new kiln::testing::TempDir("kiln_lm_workflow");
    std::string docs;
    for (const auto& entry : fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / "docs"))
      if (entry.path().extension() == ".md") docs += " " + shell_quote(entry.path().string());
    tokenize_ = new kiln::testing::CommandResult(kiln("data tokenize" + docs + " --out corpus.bin"));
    train_ = new kiln::testing::CommandResult(
        kiln("train +recipe=gpt_tiny data.train_file=corpus.bin data.batch_size=16 trainer.max_steps=60 "
             "trainer.num_threads=1 scheduler.warmup_steps=5 trainer.log_every_n_steps=10 "
             "trainer.limit_val_batches=2 trainer.val_check_interval=30"));
    for (const auto& run : fs::directory_iterator(dir_->path() / "runs" / "gpt_tiny")) run_dir_ = run.path();
  }
  static void TearDownTestSuite() {
    delete tokenize_;
    delete train_;
    delete dir_;
  }
  static kiln::testing::CommandResult kiln(const std::string& args) {
    return run_command("cd " + shell_quote(dir_->path().string()) + " && " + shell_quote(KILN_BINARY) + " " + args,
                       dir_->path());
  }
  static std::vector<double> logged(const std::string& name) {
    std::vector<double> values;
    std::regex pattern("\"" + name + "\": ([-0-9.e+]+)");
    std::string jsonl = kiln::testing::read_file(run_dir_ / "metrics.jsonl");
    for (std::sregex_iterator it(jsonl.begin(), jsonl.end(), pattern), end; it != end; ++it)
      values.push_back(std::stod((*it)[1]));
    return values;
  }

  static inline kiln::testing::TempDir* dir_ = nullptr;
  static inline kiln::testing::CommandResult* tokenize_ = nullptr;
  static inline kiln::testing::CommandResult* train_ = nullptr;
  static inline fs::path run_dir_;
};

TEST_F(LanguageModelWorkflow, TrainingTheTinyGptOnTokenizedTextLowersTheLoss) {
  ASSERT_EQ(tokenize_->exit_code, 0) << tokenize_->err;
  ASSERT_EQ(train_->exit_code, 0) << train_->err << train_->out;
  std::vector<double> loss = logged("train/loss");
  ASSERT_EQ(loss.size(), 6u);
  // ln 256 = 5.55 is uniform guessing over bytes; English text in 60 steps
  // gets well below it.
  EXPECT_GT(loss.front(), 4.5);
  EXPECT_LT(loss.back(), 3.4);
  std::vector<double> val = logged("val/loss");
  ASSERT_FALSE(val.empty());
  EXPECT_LT(val.back(), 3.6);
  EXPECT_FALSE(logged("val/ppl").empty());
}

TEST_F(LanguageModelWorkflow, GenerateIsDeterministicForASeedAndStreamsThePromptFirst) {
  ASSERT_EQ(train_->exit_code, 0) << train_->err;
  const std::string run = shell_quote(run_dir_.string());
  auto a = kiln("generate " + run + " --prompt 'The run' --max-new-tokens 40 --seed 5 --top-k 20 --num-threads 1");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out.rfind("The run", 0), 0u) << a.out;
  // The prompt, 40 bytes and a newline.
  EXPECT_EQ(a.out.size(), 7u + 40u + 1u) << a.out;
  auto b = kiln("generate " + run + "/checkpoints --prompt 'The run' --max-new-tokens 40 --seed 5 --top-k 20");
  EXPECT_EQ(b.out, a.out);
  auto c = kiln("generate " + run + " --prompt 'The run' --max-new-tokens 40 --seed 6 --top-k 20");
  EXPECT_NE(c.out, a.out);
  // One checkpoint directory by name, greedy decoding.
  std::string step;
  for (const auto& entry : fs::directory_iterator(run_dir_ / "checkpoints"))
    if (entry.is_directory()) step = entry.path().string();
  auto greedy = kiln("generate " + shell_quote(step) + " --prompt 'kiln' --max-new-tokens 20 --temperature 0");
  ASSERT_EQ(greedy.exit_code, 0) << greedy.err;
  EXPECT_EQ(greedy.out, kiln("generate " + run + " --prompt 'kiln' --max-new-tokens 20 --temperature 0 --seed 9").out)
      << "greedy decoding does not depend on the seed";
}

TEST_F(LanguageModelWorkflow, Bf16MixedTrainsTheGptOnTheCpu) {
  ASSERT_EQ(tokenize_->exit_code, 0) << tokenize_->err;
  auto r = kiln(
      "train +recipe=gpt_tiny data.train_file=corpus.bin trainer.precision=bf16-mixed trainer.max_steps=4 "
      "trainer.limit_val_batches=1 trainer.num_sanity_val_steps=0 trainer.num_threads=1 run.root=bf16 "
      "trainer.log_every_n_steps=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string jsonl;
  for (const auto& run : fs::directory_iterator(dir_->path() / "bf16" / "gpt_tiny"))
    jsonl = kiln::testing::read_file(run.path() / "metrics.jsonl");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(jsonl, m, std::regex("\"train/loss\": ([0-9.]+)"))) << jsonl;
  EXPECT_GT(std::stod(m[1]), 3.0);
  EXPECT_LT(std::stod(m[1]), 7.0);
}

TEST_F(LanguageModelWorkflow, GenerateErrorsSayWhatIsWrong) {
  auto r = kiln("generate " + shell_quote(dir_->path().string()) + " --prompt x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not a run directory (one holding .kiln/resolved.yaml)"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const std::string run = shell_quote(run_dir_.string());
  r = kiln("generate " + run + " --top-p 1.5");
  EXPECT_NE(r.err.find("top-p must be in (0, 1]"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  r = kiln("generate " + run + " --max-new-tokens ten");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--max-new-tokens takes a number, found 'ten'"), std::string::npos) << r.err;
  r = kiln("generate " + run + " --device tpu");
  EXPECT_NE(r.err.find("device 'tpu' is not one of auto, cpu, cuda, cuda:N"), std::string::npos) << r.err;
  r = kiln("generate " + run + " --eos");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no end-of-sequence token"), std::string::npos) << r.err;
  // A run of another model.
  fs::create_directories(dir_->path() / "mlp_run/.kiln");
  fs::create_directories(dir_->path() / "mlp_run/checkpoints");
  std::FILE* f = std::fopen((dir_->path() / "mlp_run/.kiln/resolved.yaml").c_str(), "w");
  std::fputs("model:\n  _target_: mlp\n", f);
  std::fclose(f);
  r = kiln("generate mlp_run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model._target_: kiln generate samples from a gpt model; this run's model is 'mlp'"),
            std::string::npos)
      << r.err;
}

}  // namespace
