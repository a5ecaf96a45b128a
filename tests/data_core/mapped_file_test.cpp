// Guarded reads of a real mapped file: the bytes come back, a file that
// shrinks under the mapping is a failed copy rather than a SIGBUS, and a
// SIGBUS outside a guarded copy still does what it did before kiln.
#include "kiln/data/mapped_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::TempDir;

constexpr std::size_t kPage = 4096;

std::string pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>(i * 7 + i / 251);
  return out;
}

std::filesystem::path write_file(const TempDir& dir, const std::string& bytes) {
  const auto path = dir.path() / "file.bin";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// An open descriptor closed at scope end.
struct Fd {
  explicit Fd(const std::filesystem::path& p) : fd(::open(p.c_str(), O_RDONLY)) {}
  ~Fd() { ::close(fd); }
  int fd;
};

TEST(MappedFileTest, CopiesTheFilesBytesAndRefusesRangesOutsideIt) {
  TempDir dir;
  const std::string bytes = pattern(3 * kPage + 100);
  const auto path = write_file(dir, bytes);
  Fd f(path);
  const MappedFile map = MappedFile::map(f.fd, bytes.size());
  ASSERT_TRUE(map.mapped());
  EXPECT_EQ(map.size(), bytes.size());
  std::string out(bytes.size(), '\0');
  ASSERT_TRUE(map.copy(0, bytes.size(), out.data()));
  EXPECT_EQ(out, bytes);
  std::string part(300, '\0');
  ASSERT_TRUE(map.copy(kPage - 10, part.size(), part.data()));  // across a page boundary
  EXPECT_EQ(part, bytes.substr(kPage - 10, 300));
  EXPECT_FALSE(map.copy(bytes.size() - 10, 11, part.data()));
  EXPECT_FALSE(map.copy(bytes.size() + 1, 0, part.data()));
  EXPECT_TRUE(map.copy(bytes.size(), 0, part.data()));
}

TEST(MappedFileTest, AnEmptyFileIsNotMappedAndEveryCopyFails) {
  TempDir dir;
  Fd f(write_file(dir, ""));
  const MappedFile map = MappedFile::map(f.fd, 0);
  EXPECT_FALSE(map.mapped());
  char c;
  EXPECT_FALSE(map.copy(0, 1, &c));
}

TEST(MappedFileTest, ACopyPastTheEndOfAShrunkFileFailsInsteadOfKillingTheProcess) {
  TempDir dir;
  const std::string bytes = pattern(6 * kPage);
  const auto path = write_file(dir, bytes);
  Fd f(path);
  const MappedFile map = MappedFile::map(f.fd, bytes.size());
  ASSERT_TRUE(map.mapped());
  std::filesystem::resize_file(path, 2 * kPage);  // as `cp other.tar this.tar` does mid-run
  std::string out(100, '\0');
  EXPECT_FALSE(map.copy(4 * kPage + 8, out.size(), out.data()));
  EXPECT_FALSE(map.copy(2 * kPage - 50, out.size(), out.data()));  // starts in the file, ends past it
  ASSERT_TRUE(map.copy(kPage, out.size(), out.data()));            // and the rest still reads
  EXPECT_EQ(out, bytes.substr(kPage, out.size()));
  EXPECT_FALSE(map.copy(5 * kPage, out.size(), out.data()));  // again: the guard is re-armed
  // Another thread's guarded copies are its own.
  bool other = true;
  std::thread([&] { other = map.copy(3 * kPage, out.size(), out.data()); }).join();
  EXPECT_FALSE(other);
}

TEST(MappedFileDeathTest, ASigbusOutsideAGuardedCopyStillKillsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  const auto path = write_file(dir, pattern(4 * kPage));
  EXPECT_EXIT(
      {
        Fd f(path);
        const MappedFile guarded = MappedFile::map(f.fd, 4 * kPage);  // installs the handler
        // A mapping of kiln's user, read past the file's new end without a guard.
        auto* raw = static_cast<volatile char*>(::mmap(nullptr, 4 * kPage, PROT_READ, MAP_SHARED, f.fd, 0));
        std::filesystem::resize_file(path, kPage);
        std::exit(raw[3 * kPage] == 1 ? 3 : 4);
      },
      ::testing::KilledBySignal(SIGBUS), "");
}

extern "C" void exit_42(int) { _exit(42); }

TEST(MappedFileDeathTest, AHandlerInstalledBeforeTheFirstMappingStillGetsOtherSigbuses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: no mapping made yet
  TempDir dir;
  const auto path = write_file(dir, pattern(kPage));
  EXPECT_EXIT(
      {
        ::signal(SIGBUS, exit_42);
        Fd f(path);
        const MappedFile map = MappedFile::map(f.fd, kPage);
        ::raise(SIGBUS);
        std::exit(map.mapped() ? 3 : 4);
      },
      ::testing::ExitedWithCode(42), "");
}

}  // namespace
}  // namespace kiln::data
