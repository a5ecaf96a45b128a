#include "kiln/track/run_id.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "kiln/error.h"
#include "kiln/track/run_dir.h"
#include "support/temp_dir.h"

namespace kiln::track {
namespace {

namespace fs = std::filesystem;

using EnvMap = std::map<std::string, std::string>;

// A RunIdEnv reading from a map instead of the process environment.
RunIdEnv fake_env(EnvMap vars) {
  RunIdEnv env;
  env.getenv = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return env;
}

// Fixed at 2024-03-14 09:26:53 local time.
std::chrono::system_clock::time_point fixed_time() {
  std::tm local{};
  local.tm_year = 2024 - 1900;
  local.tm_mon = 2;
  local.tm_mday = 14;
  local.tm_hour = 9;
  local.tm_min = 26;
  local.tm_sec = 53;
  local.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&local));
}

// Returns values in order, then repeats the last.
std::function<std::uint32_t()> sequence(std::vector<std::uint32_t> values) {
  auto index = std::make_shared<std::size_t>(0);
  return [values = std::move(values), index]() {
    std::uint32_t v = values[std::min(*index, values.size() - 1)];
    ++*index;
    return v;
  };
}

// Each test's directory is named after this file.
class TempDir : public kiln::testing::TempDir {
 public:
  TempDir() : kiln::testing::TempDir("kiln_run_id_test") {}
};

const std::regex kGeneratedFormat("^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$");

// ------------------------------------------------------------------ fresh ids

TEST(RunIdTest, GeneratedIdHasDateTimeAndEightHexDigits) {
  std::string id = generate_run_id();
  EXPECT_TRUE(std::regex_match(id, kGeneratedFormat)) << id;
  EXPECT_TRUE(is_valid_run_id(id));
}

TEST(RunIdTest, GeneratedIdUsesLocalTimeAndRandomBits) {
  RunIdEnv env;
  env.now = fixed_time;
  env.random32 = [] { return 0x3fa9c01eu; };
  EXPECT_EQ(generate_run_id(env), "20240314-092653-3fa9c01e");
  env.random32 = [] { return 0xau; };
  EXPECT_EQ(generate_run_id(env), "20240314-092653-0000000a");  // zero-padded
}

TEST(RunIdTest, ThousandGeneratedIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(generate_run_id());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(RunIdTest, ThousandIdsInTheSameSecondAreDistinct) {
  RunIdEnv env;
  env.now = fixed_time;  // the random part alone must keep them apart
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(generate_run_id(env));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(RunIdTest, WithoutLauncherEnvironmentTheIdIsGenerated) {
  RunIdEnv env = fake_env({{"HOME", "/root"}});
  EXPECT_EQ(run_id_from_env(env), std::nullopt);
  RunId id = resolve_run_id(env);
  EXPECT_EQ(id.source, RunIdSource::kGenerated);
  EXPECT_FALSE(id.shared());
  EXPECT_TRUE(std::regex_match(id.value, kGeneratedFormat)) << id.value;
}

// ------------------------------------------------------------------ shared ids

TEST(RunIdTest, KilnRunIdIsTakenAsIs) {
  RunId id = resolve_run_id(fake_env({{"KILN_RUN_ID", "exp42.lr-3e_4"}}));
  EXPECT_EQ(id.value, "exp42.lr-3e_4");
  EXPECT_EQ(id.source, RunIdSource::kKilnRunId);
  EXPECT_TRUE(id.shared());
}

TEST(RunIdTest, KilnRunIdWinsOverTorchrunAndSlurm) {
  RunId id = resolve_run_id(fake_env({{"KILN_RUN_ID", "mine"},
                                      {"TORCHELASTIC_RUN_ID", "abc"},
                                      {"MASTER_ADDR", "node1"},
                                      {"MASTER_PORT", "29500"},
                                      {"SLURM_JOB_ID", "812345"},
                                      {"SLURM_STEP_ID", "0"}}));
  EXPECT_EQ(id.value, "mine");
  EXPECT_EQ(id.source, RunIdSource::kKilnRunId);
}

TEST(RunIdTest, EmptyKilnRunIdCountsAsUnset) {
  RunId id = resolve_run_id(fake_env({{"KILN_RUN_ID", ""}, {"SLURM_JOB_ID", "7"}, {"SLURM_STEP_ID", "1"}}));
  EXPECT_EQ(id.value, "slurm-7-1");
}

TEST(RunIdTest, InvalidKilnRunIdIsAUsageErrorNamingTheValue) {
  for (std::string bad :
       std::vector<std::string>{"../escape", "a/b", ".hidden", "-flag", "has space", std::string(129, 'x')}) {
    try {
      run_id_from_env(fake_env({{"KILN_RUN_ID", bad}}));
      ADD_FAILURE() << "no error for " << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("KILN_RUN_ID='" + bad + "' is not a valid run id"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("A-Z a-z 0-9 . _ -"), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), ExitCode::kConfig);
    }
  }
}

TEST(RunIdTest, TorchrunIdIsDerivedFromRendezvousAndMaster) {
  EnvMap vars{{"TORCHELASTIC_RUN_ID", "job7"}, {"MASTER_ADDR", "node1"}, {"MASTER_PORT", "29500"}};
  RunId id = resolve_run_id(fake_env(vars));
  EXPECT_EQ(id.source, RunIdSource::kTorchrun);
  EXPECT_TRUE(id.shared());
  EXPECT_TRUE(std::regex_match(id.value, std::regex("^torchrun-[0-9a-f]{16}$"))) << id.value;
  // Another job reusing the rendezvous id elsewhere gets another directory.
  vars["MASTER_ADDR"] = "node2";
  EXPECT_NE(resolve_run_id(fake_env(vars)).value, id.value);
}

TEST(RunIdTest, TorchrunIdIsPinned) {
  // FNV-1a 64 of job7 NUL node1 NUL 29500 NUL (computed independently in Python).
  // A changed hash would split the ranks of a run launched with two kiln
  // versions, so it must never change.
  RunId id =
      resolve_run_id(fake_env({{"TORCHELASTIC_RUN_ID", "job7"}, {"MASTER_ADDR", "node1"}, {"MASTER_PORT", "29500"}}));
  EXPECT_EQ(id.value, "torchrun-190839220b8362ae");
}

TEST(RunIdTest, TorchrunWithoutRendezvousIdIsNotShared) {
  // Plain torchrun (static rendezvous) sets TORCHELASTIC_RUN_ID=none.
  RunId id =
      resolve_run_id(fake_env({{"TORCHELASTIC_RUN_ID", "none"}, {"MASTER_ADDR", "node1"}, {"MASTER_PORT", "29500"}}));
  EXPECT_EQ(id.source, RunIdSource::kGenerated);
}

TEST(RunIdTest, TorchrunNeedsMasterAddressAndPort) {
  EXPECT_EQ(run_id_from_env(fake_env({{"TORCHELASTIC_RUN_ID", "job7"}, {"MASTER_ADDR", "node1"}})), std::nullopt);
  EXPECT_EQ(run_id_from_env(fake_env({{"TORCHELASTIC_RUN_ID", "job7"}, {"MASTER_PORT", "29500"}})), std::nullopt);
}

TEST(RunIdTest, TorchrunWinsOverSlurm) {
  RunId id = resolve_run_id(fake_env({{"TORCHELASTIC_RUN_ID", "job7"},
                                      {"MASTER_ADDR", "node1"},
                                      {"MASTER_PORT", "29500"},
                                      {"SLURM_JOB_ID", "812345"},
                                      {"SLURM_STEP_ID", "0"}}));
  EXPECT_EQ(id.source, RunIdSource::kTorchrun);
}

TEST(RunIdTest, SlurmIdIsJobAndStep) {
  RunId id = resolve_run_id(fake_env({{"SLURM_JOB_ID", "812345"}, {"SLURM_STEP_ID", "0"}}));
  EXPECT_EQ(id.value, "slurm-812345-0");
  EXPECT_EQ(id.source, RunIdSource::kSlurm);
  EXPECT_TRUE(id.shared());
}

TEST(RunIdTest, SlurmNeedsBothJobAndStep) {
  EXPECT_EQ(run_id_from_env(fake_env({{"SLURM_JOB_ID", "812345"}})), std::nullopt);
  EXPECT_EQ(run_id_from_env(fake_env({{"SLURM_STEP_ID", "0"}})), std::nullopt);
}

TEST(RunIdTest, SlurmValuesCannotEscapeTheRunRoot) {
  RunId id = resolve_run_id(fake_env({{"SLURM_JOB_ID", "../../etc"}, {"SLURM_STEP_ID", "0"}}));
  EXPECT_EQ(id.value, "slurm-.._.._etc-0");
  EXPECT_TRUE(is_valid_run_id(id.value));
  RunId huge = resolve_run_id(fake_env({{"SLURM_JOB_ID", std::string(300, '9')}, {"SLURM_STEP_ID", "0"}}));
  EXPECT_TRUE(std::regex_match(huge.value, std::regex("^slurm-[0-9a-f]{16}$"))) << huge.value;
}

TEST(RunIdTest, SameEnvironmentGivesSameIdInTwoCalls) {
  for (EnvMap vars : {EnvMap{{"KILN_RUN_ID", "abc"}},
                      EnvMap{{"TORCHELASTIC_RUN_ID", "r"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},
                      EnvMap{{"SLURM_JOB_ID", "5"}, {"SLURM_STEP_ID", "2"}}}) {
    // Two "ranks": each with its own clock reading and entropy.
    RunIdEnv rank0 = fake_env(vars);
    RunIdEnv rank1 = fake_env(vars);
    rank1.random32 = [] { return 0x12345678u; };
    EXPECT_EQ(resolve_run_id(rank0).value, resolve_run_id(rank1).value);
  }
}

TEST(RunIdTest, ValidRunIds) {
  EXPECT_TRUE(is_valid_run_id("20240314-092653-3fa9c01e"));
  EXPECT_TRUE(is_valid_run_id("a"));
  EXPECT_TRUE(is_valid_run_id(std::string(kMaxRunIdLength, 'a')));
  EXPECT_FALSE(is_valid_run_id(""));
  EXPECT_FALSE(is_valid_run_id("."));
  EXPECT_FALSE(is_valid_run_id(".."));
  EXPECT_FALSE(is_valid_run_id("a/b"));
  EXPECT_FALSE(is_valid_run_id("-rf"));
  EXPECT_FALSE(is_valid_run_id(std::string(kMaxRunIdLength + 1, 'a')));
  EXPECT_FALSE(is_valid_run_id(std::string("a\0b", 3)));
}

TEST(RunIdTest, SourceNames) {
  EXPECT_STREQ(run_id_source_name(RunIdSource::kGenerated), "generated");
  EXPECT_STREQ(run_id_source_name(RunIdSource::kKilnRunId), "KILN_RUN_ID");
  EXPECT_STREQ(run_id_source_name(RunIdSource::kTorchrun), "torchrun");
  EXPECT_STREQ(run_id_source_name(RunIdSource::kSlurm), "SLURM");
}

// ------------------------------------------------------------------ run directories

TEST(RunDirTest, CreatesRootParentsAndTheRunDirectory) {
  TempDir tmp;
  fs::path root = tmp.path() / "a" / "b" / "runs";
  RunDir dir = create_run_dir(root, RunId{"exp1", RunIdSource::kGenerated});
  EXPECT_EQ(dir.path, root / "exp1");
  EXPECT_EQ(dir.id.value, "exp1");
  EXPECT_TRUE(dir.created);
  EXPECT_TRUE(fs::is_directory(dir.path));
}

TEST(RunDirTest, AGeneratedIdsDirectorySpellsItsDateAndTime) {
  TempDir tmp;
  RunDir dir = create_run_dir(tmp.path(), RunId{"20240314-092653-3fa9c01e", RunIdSource::kGenerated});
  EXPECT_EQ(dir.path, tmp.path() / "2024-03-14_09-26-53_3fa9c01e");
  EXPECT_EQ(dir.id.value, "20240314-092653-3fa9c01e");
}

TEST(RunDirTest, TheIdIsReadBackFromTheDirectoryName) {
  RunId generated = run_id_from_dir_name("2024-03-14_09-26-53_3fa9c01e");
  EXPECT_EQ(generated.value, "20240314-092653-3fa9c01e");
  EXPECT_EQ(generated.source, RunIdSource::kGenerated);
  EXPECT_EQ(run_id_from_dir_name("slurm-812345-0").value, "slurm-812345-0");
  EXPECT_EQ(run_id_from_dir_name("2024-03-14_09-26-5x_3fa9c01e").value, "2024-03-14_09-26-5x_3fa9c01e");
}

TEST(RunDirTest, ASharedIdIsTheDirectoryNameAsIs) {
  EXPECT_EQ(run_dir_name(RunId{"20240314-092653-3fa9c01e", RunIdSource::kKilnRunId}), "20240314-092653-3fa9c01e");
  EXPECT_EQ(run_dir_name(RunId{"slurm-812345-0", RunIdSource::kSlurm}), "slurm-812345-0");
}

TEST(RunDirTest, TwoRunsInTheSameSecondGetDistinctDirectories) {
  TempDir tmp;
  RunIdEnv env = fake_env({});
  env.now = fixed_time;  // guaranteed the same second; only the random bits differ
  RunId first = resolve_run_id(env);
  RunId second = resolve_run_id(env);
  ASSERT_EQ(first.value.substr(0, 15), second.value.substr(0, 15));
  RunDir a = create_run_dir(tmp.path(), first);
  RunDir b = create_run_dir(tmp.path(), second);
  EXPECT_NE(a.path, b.path);
  EXPECT_TRUE(fs::is_directory(a.path));
  EXPECT_TRUE(fs::is_directory(b.path));
  EXPECT_TRUE(a.created && b.created);
}

TEST(RunDirTest, ACollidingGeneratedIdIsRetriedWithAFreshOne) {
  TempDir tmp;
  // Same second, and the entropy repeats once: the second run's first id
  // equals the first run's, as in hydra#2070.
  RunIdEnv env;
  env.now = fixed_time;
  env.random32 = sequence({0xaaaaaaaa, 0xaaaaaaaa, 0xbbbbbbbb});
  RunDirOptions options;
  options.env = env;
  RunDir a = create_run_dir(tmp.path(), resolve_run_id(env), options);
  RunId colliding = resolve_run_id(env);
  ASSERT_EQ(colliding.value, a.id.value);
  RunDir b = create_run_dir(tmp.path(), colliding, options);
  EXPECT_EQ(a.id.value, "20240314-092653-aaaaaaaa");
  EXPECT_EQ(b.id.value, "20240314-092653-bbbbbbbb");
  EXPECT_EQ(b.path, tmp.path() / "2024-03-14_09-26-53_bbbbbbbb");
  EXPECT_TRUE(b.created);
  EXPECT_TRUE(fs::is_directory(b.path));
}

TEST(RunDirTest, BrokenEntropyGivesUpWithAnIoError) {
  TempDir tmp;
  RunIdEnv env;
  env.now = fixed_time;
  env.random32 = [] { return 7u; };
  RunDirOptions options;
  options.env = env;
  options.max_attempts = 3;
  create_run_dir(tmp.path(), resolve_run_id(env), options);
  try {
    create_run_dir(tmp.path(), resolve_run_id(env), options);
    FAIL() << "no error";
  } catch (const IoError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot create run directory '" + (tmp.path() / "2024-03-14_09-26-53_00000007").string() + "'"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find(std::strerror(EEXIST)), std::string::npos) << what;
    EXPECT_NE(what.find("3 fresh run ids all collided"), std::string::npos) << what;
  }
}

TEST(RunDirTest, ASharedIdsExistingDirectoryIsReused) {
  TempDir tmp;
  RunId shared{"slurm-5-0", RunIdSource::kSlurm};
  RunDir rank0 = create_run_dir(tmp.path(), shared);
  fs::path marker = rank0.path / "written-by-rank0";
  std::ofstream(marker) << "x";
  RunDir rank1 = create_run_dir(tmp.path(), shared);
  EXPECT_TRUE(rank0.created);
  EXPECT_FALSE(rank1.created);
  EXPECT_EQ(rank1.path, rank0.path);
  EXPECT_EQ(rank1.id.value, "slurm-5-0");
  EXPECT_TRUE(fs::exists(marker));  // not recreated or emptied
}

TEST(RunDirTest, ASharedIdNamingAFileIsAnIoError) {
  TempDir tmp;
  std::ofstream(tmp.path() / "slurm-5-0") << "not a directory";
  try {
    create_run_dir(tmp.path(), RunId{"slurm-5-0", RunIdSource::kSlurm});
    FAIL() << "no error";
  } catch (const IoError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("'" + (tmp.path() / "slurm-5-0").string() + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(std::strerror(ENOTDIR)), std::string::npos) << what;
  }
}

TEST(RunDirTest, RootUnderAFileIsAnIoErrorNamingThePath) {
  TempDir tmp;
  std::ofstream(tmp.path() / "file") << "x";
  fs::path root = tmp.path() / "file" / "runs";
  try {
    create_run_dir(root, RunId{"exp1", RunIdSource::kGenerated});
    FAIL() << "no error";
  } catch (const IoError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("cannot create run root '" + root.string() + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(std::strerror(ENOTDIR)), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), ExitCode::kIo);
  }
}

TEST(RunDirTest, UnwritableRootIsAnIoErrorNamingThePath) {
  TempDir tmp;
  fs::permissions(tmp.path(), fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);
  fs::path root = tmp.path() / "readonly";
  fs::create_directory(root);
  fs::permissions(root, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                            fs::perms::others_exec | fs::perms::group_read | fs::perms::group_exec);
  // Root ignores directory permissions, so the attempt runs in a child
  // process that drops to the unprivileged user nobody first and sends the
  // error message back through a pipe.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string message = "setuid(nobody) failed";
    if (::geteuid() != 0 || ::setuid(65534) == 0) {
      try {
        create_run_dir(root, RunId{"exp1", RunIdSource::kGenerated});
        message = "no error";
      } catch (const IoError& e) {
        message = e.what();
      }
    }
    ssize_t written = ::write(fds[1], message.data(), message.size());
    std::_Exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string what;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) what.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_NE(what.find("cannot create run directory '" + (root / "exp1").string() + "'"), std::string::npos) << what;
  EXPECT_NE(what.find(std::strerror(EACCES)), std::string::npos) << what;
}

TEST(RunDirTest, AnInvalidIdIsRejectedBeforeTouchingTheDisk) {
  TempDir tmp;
  fs::path root = tmp.path() / "runs";
  try {
    create_run_dir(root, RunId{"../escape", RunIdSource::kKilnRunId});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("run id '../escape' is not a valid run id"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root));
  EXPECT_FALSE(fs::exists(tmp.path() / "escape"));
}

}  // namespace
}  // namespace kiln::track
