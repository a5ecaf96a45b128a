// Provenance for the run manifest: a real git work tree, the real host.
#include "kiln/track/provenance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace kiln::track {
namespace {
namespace fs = std::filesystem;

class GitRepo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_git_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void sh(const std::string& command, const fs::path& where) {
    std::string line = "cd '" + where.string() + "' && " + command + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(line.c_str()), 0) << line;
  }
  void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  // A repository with one commit holding a.txt.
  fs::path make_repo(const std::string& name) {
    fs::path repo = dir_ / name;
    fs::create_directories(repo);
    sh("git init -q -b main . && git config user.email t@example.com && git config user.name t", repo);
    write(repo / "a.txt", "one\n");
    sh("git add a.txt && git commit -q -m first", repo);
    return repo;
  }
  std::string head(const fs::path& repo) {
    std::string file = (dir_ / "head").string();
    std::string line = "git -C '" + repo.string() + "' rev-parse HEAD > '" + file + "'";
    EXPECT_EQ(std::system(line.c_str()), 0);
    std::ifstream in(file);
    std::string hash;
    in >> hash;
    return hash;
  }

  fs::path dir_;
};

TEST_F(GitRepo, OutsideAWorkTreeThereIsNoGitState) {
  GitState state = describe_git(dir_);
  EXPECT_FALSE(state.present);
  EXPECT_TRUE(state.commit.empty());
}

TEST_F(GitRepo, ACleanTreeHasItsCommitAndBranchAndNoDiff) {
  fs::path repo = make_repo("clean");
  GitState state = describe_git(repo);
  ASSERT_TRUE(state.present);
  EXPECT_EQ(state.commit, head(repo));
  EXPECT_EQ(state.commit.size(), 40u);
  EXPECT_EQ(state.branch, "main");
  EXPECT_FALSE(state.dirty);
  EXPECT_TRUE(state.diff_sha256.empty());
  EXPECT_EQ(fs::path(state.root), fs::canonical(repo));
}

TEST_F(GitRepo, ASubdirectoryReportsTheWholeTree) {
  fs::path repo = make_repo("sub");
  fs::create_directories(repo / "deep" / "er");
  EXPECT_EQ(describe_git(repo / "deep" / "er").commit, head(repo));
}

TEST_F(GitRepo, TheSameChangeInTwoClonesHasTheSameDiffHash) {
  fs::path repo = make_repo("origin");
  sh("git clone -q origin copy", dir_);
  fs::path copy = dir_ / "copy";
  write(repo / "a.txt", "two\n");
  write(copy / "a.txt", "two\n");
  GitState a = describe_git(repo);
  GitState b = describe_git(copy);
  EXPECT_TRUE(a.dirty);
  EXPECT_EQ(a.diff_sha256.size(), 64u);
  EXPECT_EQ(a.diff_sha256, b.diff_sha256);
  write(copy / "a.txt", "three\n");
  EXPECT_NE(describe_git(copy).diff_sha256, a.diff_sha256);
}

TEST_F(GitRepo, AnUntrackedFileMakesTheTreeDirty) {
  fs::path repo = make_repo("untracked");
  write(repo / "new.txt", "x\n");
  GitState state = describe_git(repo);
  EXPECT_TRUE(state.dirty);
  EXPECT_FALSE(state.diff_sha256.empty());
}

TEST_F(GitRepo, AnIgnoredFileDoesNotMakeTheTreeDirty) {
  fs::path repo = make_repo("ignored");
  write(repo / ".gitignore", "runs/\n");
  sh("git add .gitignore && git commit -q -m ignore", repo);
  fs::create_directories(repo / "runs");
  write(repo / "runs" / "x.txt", "x\n");
  EXPECT_FALSE(describe_git(repo).dirty);
}

TEST(Environment, KeepsVariablesThatChangeARunAndRedactsSecrets) {
  std::string a = "OMP_NUM_THREADS=2", b = "HOME=/root", c = "KILN_RUN_ID=x", d = "WANDB_API_KEY=abc",
              e = "NCCL_AUTH_TOKEN=s3cret", f = "RANK=1", g = "RANKING=7", h = "broken";
  char* block[] = {a.data(), b.data(), c.data(), d.data(), e.data(), f.data(), g.data(), h.data(), nullptr};
  auto vars = relevant_environment(block);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"KILN_RUN_ID", "x"}, {"NCCL_AUTH_TOKEN", "<redacted>"}, {"OMP_NUM_THREADS", "2"}, {"RANK", "1"}};
  EXPECT_EQ(vars, expected);
}

TEST(Host, DescribesThisMachine) {
  HostInfo host = describe_host();
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  EXPECT_EQ(host.hostname, name);
  EXPECT_GE(host.cpu_count, 1);
  EXPECT_GT(host.memory_bytes, 0u);
  EXPECT_TRUE(host.os.starts_with("Linux ")) << host.os;
}

TEST(Compiler, NamesTheCompilerAndVersion) {
  std::string text = compiler_description();
  EXPECT_TRUE(text.starts_with("GCC ") || text.starts_with("Clang ")) << text;
}

}  // namespace
}  // namespace kiln::track
