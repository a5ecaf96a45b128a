#include "kiln/track/env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/error.h"
#include "kiln/track/fault_injection_env.h"
#include "support/temp_dir.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// Each test's directory is named after this file.
class TempDir : public kiln::testing::TempDir {
 public:
  TempDir() : kiln::testing::TempDir("kiln_env_test") {}
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs `body`, expecting an IoError whose message contains every fragment.
template <typename Body>
void expect_io_error(Body body, const std::vector<std::string>& fragments) {
  try {
    body();
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    for (const std::string& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what() << "\nlacks: " << fragment;
    }
    EXPECT_EQ(e.exit_code(), ExitCode::kIo);
  }
}

// ------------------------------------------------------------------ Env::Default

TEST(EnvTest, WriteThenReadRoundTripsBinaryData) {
  TempDir tmp;
  Env& env = Env::Default();
  std::string data("a\0b\xff\n", 5);
  env.write_file(tmp.path() / "f", data);
  EXPECT_EQ(env.read_file(tmp.path() / "f"), data);
  EXPECT_EQ(env.file_size(tmp.path() / "f"), 5u);
}

TEST(EnvTest, WriteFileTruncatesAndAppendFileAppends) {
  TempDir tmp;
  Env& env = Env::Default();
  env.write_file(tmp.path() / "f", "long contents");
  env.write_file(tmp.path() / "f", "short");
  env.append_file(tmp.path() / "f", "+more");
  env.append_file(tmp.path() / "new", "x");
  EXPECT_EQ(slurp(tmp.path() / "f"), "short+more");
  EXPECT_EQ(slurp(tmp.path() / "new"), "x");
}

TEST(EnvTest, ListDirIsSortedWithoutDots) {
  TempDir tmp;
  Env& env = Env::Default();
  for (const char* name : {"b", "a", ".hidden", "c10", "c2"}) env.write_file(tmp.path() / name, "");
  env.create_dir(tmp.path() / "dir");
  EXPECT_EQ(env.list_dir(tmp.path()), (std::vector<std::string>{".hidden", "a", "b", "c10", "c2", "dir"}));
}

TEST(EnvTest, StatReportsMissingAsAValue) {
  TempDir tmp;
  Env& env = Env::Default();
  EXPECT_EQ(env.stat(tmp.path() / "missing"), std::nullopt);
  EXPECT_EQ(env.stat(tmp.path() / "missing" / "below"), std::nullopt);
  EXPECT_FALSE(env.exists(tmp.path() / "missing"));
  env.write_file(tmp.path() / "f", "abc");
  ASSERT_TRUE(env.stat(tmp.path() / "f"));
  EXPECT_FALSE(env.stat(tmp.path() / "f")->is_directory);
  EXPECT_EQ(env.stat(tmp.path() / "f")->size, 3u);
  EXPECT_TRUE(env.is_directory(tmp.path()));
}

TEST(EnvTest, CreateDirsMakesParentsAndReportsWhetherItCreated) {
  TempDir tmp;
  Env& env = Env::Default();
  fs::path deep = tmp.path() / "a" / "b" / "c";
  EXPECT_TRUE(env.create_dirs(deep));
  EXPECT_TRUE(fs::is_directory(deep));
  EXPECT_FALSE(env.create_dirs(deep));
  EXPECT_FALSE(env.create_dir(deep));
}

TEST(EnvTest, RemoveAllRemovesATreeAndIgnoresMissing) {
  TempDir tmp;
  Env& env = Env::Default();
  env.create_dirs(tmp.path() / "t" / "sub");
  env.write_file(tmp.path() / "t" / "f", "1");
  env.write_file(tmp.path() / "t" / "sub" / "g", "2");
  env.remove_all(tmp.path() / "t");
  EXPECT_FALSE(fs::exists(tmp.path() / "t"));
  env.remove_all(tmp.path() / "t");  // nothing there: no error
}

TEST(EnvTest, RenameReplacesAFile) {
  TempDir tmp;
  Env& env = Env::Default();
  env.write_file(tmp.path() / "old", "old");
  env.write_file(tmp.path() / "new", "new");
  env.rename(tmp.path() / "new", tmp.path() / "old");
  EXPECT_EQ(slurp(tmp.path() / "old"), "new");
  EXPECT_FALSE(fs::exists(tmp.path() / "new"));
}

TEST(EnvTest, WriteFileAtomicReplacesAndLeavesNoTemporary) {
  TempDir tmp;
  Env& env = Env::Default();
  env.write_file(tmp.path() / "pointer", "one");
  env.write_file_atomic(tmp.path() / "pointer", "two");
  EXPECT_EQ(slurp(tmp.path() / "pointer"), "two");
  EXPECT_EQ(env.list_dir(tmp.path()), std::vector<std::string>{"pointer"});
}

TEST(EnvTest, ReadingAMissingFileNamesThePathAndStrerror) {
  TempDir tmp;
  fs::path missing = tmp.path() / "missing";
  expect_io_error([&] { Env::Default().read_file(missing); },
                  {"cannot open '" + missing.string() + "'", std::strerror(ENOENT)});
}

TEST(EnvTest, ReadingADirectoryIsAnError) {
  TempDir tmp;
  expect_io_error([&] { Env::Default().read_file(tmp.path()); },
                  {"cannot read '" + tmp.path().string() + "'", std::strerror(EISDIR)});
}

TEST(EnvTest, ReadFileRefusesFilesAboveTheLimit) {
  TempDir tmp;
  Env::Default().write_file(tmp.path() / "f", std::string(100, 'x'));
  expect_io_error([&] { Env::Default().read_file(tmp.path() / "f", 10); },
                  {"'" + (tmp.path() / "f").string() + "'", "larger than the 10 bytes expected"});
  EXPECT_EQ(Env::Default().read_file(tmp.path() / "f", 100).size(), 100u);
}

TEST(EnvTest, CreatingInAMissingDirectoryNamesThePath) {
  TempDir tmp;
  fs::path path = tmp.path() / "no" / "f";
  expect_io_error([&] { Env::Default().write_file(path, "x"); },
                  {"cannot create '" + path.string() + "'", std::strerror(ENOENT)});
}

TEST(EnvTest, RenameErrorNamesBothPaths) {
  TempDir tmp;
  fs::path from = tmp.path() / "a", to = tmp.path() / "b";
  expect_io_error([&] { Env::Default().rename(from, to); },
                  {"cannot rename '" + from.string() + "' to '" + to.string() + "'", std::strerror(ENOENT)});
}

TEST(EnvTest, CreateDirOverAFileIsAnError) {
  TempDir tmp;
  Env::Default().write_file(tmp.path() / "f", "");
  expect_io_error([&] { Env::Default().create_dir(tmp.path() / "f"); },
                  {"cannot create directory '" + (tmp.path() / "f").string() + "'", std::strerror(EEXIST)});
  expect_io_error([&] { Env::Default().create_dirs(tmp.path() / "f"); }, {std::strerror(EEXIST)});
}

TEST(EnvTest, FileSizeOfAMissingFileIsAnError) {
  TempDir tmp;
  expect_io_error([&] { Env::Default().file_size(tmp.path() / "m"); }, {"cannot stat", std::strerror(ENOENT)});
}

TEST(EnvTest, ClockAndEntropyAreReal) {
  Env& env = Env::Default();
  auto before = std::chrono::system_clock::now();
  EXPECT_GE(env.now(), before);
  // 8 draws all equal would mean the entropy source is broken.
  std::uint32_t first = env.random32();
  bool differs = false;
  for (int i = 0; i < 8; ++i) differs = differs || env.random32() != first;
  EXPECT_TRUE(differs);
}

// ------------------------------------------------------------------ FaultInjectionEnv

TEST(FaultInjectionEnvTest, NumbersAndLogsMutatingOperations) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.create_dir(tmp.path() / "d");
  env.write_file(tmp.path() / "d" / "f", "abc");
  env.read_file(tmp.path() / "d" / "f");  // reads are not numbered
  env.rename(tmp.path() / "d" / "f", tmp.path() / "d" / "g");
  env.sync_dir(tmp.path() / "d");
  std::string d = (tmp.path() / "d").string();
  EXPECT_EQ(env.ops(), (std::vector<std::string>{
                           "create_dir " + d, "create " + d + "/f", "append " + d + "/f (3 bytes)", "sync " + d + "/f",
                           "close " + d + "/f", "rename " + d + "/f -> " + d + "/g", "sync_dir " + d}));
  EXPECT_EQ(env.op_count(), 7u);
}

TEST(FaultInjectionEnvTest, CrashStopsTheOperationAndEverythingAfter) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.crash_before(2);  // create_dir, create, *append*
  env.create_dir(tmp.path() / "d");
  auto file = env.new_writable_file(tmp.path() / "d" / "f");
  try {
    file->append("data");
    FAIL() << "no crash";
  } catch (const SimulatedCrash& e) {
    EXPECT_NE(std::string(e.what()).find("before operation #2 (append"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(env.crashed());
  EXPECT_EQ(env.op_count(), 2u);
  EXPECT_EQ(fs::file_size(tmp.path() / "d" / "f"), 0u);
  EXPECT_THROW(env.remove_all(tmp.path() / "d"), SimulatedCrash);  // cleanup after death is refused
  EXPECT_THROW(env.read_file(tmp.path() / "d" / "f"), SimulatedCrash);
  EXPECT_TRUE(fs::exists(tmp.path() / "d" / "f"));
}

TEST(FaultInjectionEnvTest, SimulatedCrashIsNotAKilnError) {
  // Error handlers (catch kiln::Error) must not run for a crash.
  FaultInjectionEnv env;
  env.crash_before(0);
  bool caught_as_error = false;
  try {
    env.create_dir("/nonexistent-kiln-dir");
  } catch (const Error&) {
    caught_as_error = true;
  } catch (const SimulatedCrash&) {
  }
  EXPECT_FALSE(caught_as_error);
}

TEST(FaultInjectionEnvTest, FullDiskFailsTheNthAppendAndAllLater) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.fail_appends_from(1, ENOSPC, /*partial_bytes=*/2);
  auto file = env.new_writable_file(tmp.path() / "f");
  file->append("ok-");
  fs::path path = tmp.path() / "f";
  expect_io_error([&] { file->append("lost"); }, {"cannot write '" + path.string() + "'", std::strerror(ENOSPC)});
  expect_io_error([&] { file->append("x"); }, {std::strerror(ENOSPC)});
  file->close();
  EXPECT_EQ(slurp(path), "ok-lo");  // the partial write of the failing call
  EXPECT_FALSE(env.crashed());
}

TEST(FaultInjectionEnvTest, PowerLossCutsFilesBackToTheirLastSync) {
  TempDir tmp;
  Env::Default().write_file(tmp.path() / "f", "");  // the entry itself is durable
  FaultInjectionEnv env;
  auto file = env.new_writable_file(tmp.path() / "f");
  file->append("synced");
  file->sync();
  file->append("-unsynced");
  file->close();
  env.drop_unsynced_data();
  EXPECT_EQ(slurp(tmp.path() / "f"), "synced");
}

TEST(FaultInjectionEnvTest, PowerLossRemovesEntriesWhoseDirectoryWasNotSynced) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.write_file(tmp.path() / "kept", "k");
  env.sync_dir(tmp.path());
  env.write_file(tmp.path() / "lost", "l");  // synced data, but not the entry
  env.create_dir(tmp.path() / "dir");
  env.drop_unsynced_data();
  EXPECT_EQ(slurp(tmp.path() / "kept"), "k");
  EXPECT_FALSE(fs::exists(tmp.path() / "lost"));
  EXPECT_FALSE(fs::exists(tmp.path() / "dir"));
}

TEST(FaultInjectionEnvTest, PowerLossUndoesAnUnsyncedRenameAndRestoresTheReplacedFile) {
  TempDir tmp;
  Env::Default().write_file(tmp.path() / "pointer", "old");
  FaultInjectionEnv env;
  env.write_file(tmp.path() / "temp", "new");
  env.rename(tmp.path() / "temp", tmp.path() / "pointer");
  EXPECT_EQ(slurp(tmp.path() / "pointer"), "new");
  env.drop_unsynced_data();
  EXPECT_EQ(slurp(tmp.path() / "pointer"), "old");
  EXPECT_FALSE(fs::exists(tmp.path() / "temp"));  // its creation was never durable either
}

TEST(FaultInjectionEnvTest, ASyncedRenameSurvivesPowerLoss) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.create_dir(tmp.path() / "tmpdir");
  env.write_file(tmp.path() / "tmpdir" / "f", "data");
  env.sync_dir(tmp.path() / "tmpdir");
  env.sync_dir(tmp.path());
  env.rename(tmp.path() / "tmpdir", tmp.path() / "final");
  env.sync_dir(tmp.path());
  env.drop_unsynced_data();
  EXPECT_EQ(slurp(tmp.path() / "final" / "f"), "data");
  EXPECT_FALSE(fs::exists(tmp.path() / "tmpdir"));
}

TEST(FaultInjectionEnvTest, UnsyncedDataFollowsItsFileThroughARename) {
  TempDir tmp;
  FaultInjectionEnv env;
  env.create_dir(tmp.path() / "a");
  env.write_file(tmp.path() / "a" / "f", "never synced", /*sync=*/false);
  env.sync_dir(tmp.path() / "a");
  env.sync_dir(tmp.path());
  env.rename(tmp.path() / "a", tmp.path() / "b");
  env.sync_dir(tmp.path());
  env.drop_unsynced_data();
  ASSERT_TRUE(fs::exists(tmp.path() / "b" / "f"));
  EXPECT_EQ(fs::file_size(tmp.path() / "b" / "f"), 0u);
}

}  // namespace
}  // namespace kiln
