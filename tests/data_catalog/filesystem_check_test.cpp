// The network-file-system decision, on statfs magic numbers.
#include "kiln/data/filesystem_check.h"

#include <gtest/gtest.h>

namespace kiln::data {
namespace {

TEST(NfsWarning, NetworkMagicsAreNetwork) {
  for (std::uint64_t magic : {0x6969ull, 0xFF534D42ull, 0xFE534D42ull, 0x517Bull, 0x65735546ull, 0x0BD00BD0ull,
                              0x47504653ull, 0x19830326ull, 0x00C36400ull})
    EXPECT_TRUE(classify_filesystem_magic(magic).network) << std::hex << magic;
  EXPECT_EQ(classify_filesystem_magic(0x6969).name, "nfs");
  EXPECT_EQ(classify_filesystem_magic(0xFE534D42).name, "smb2");
  EXPECT_EQ(classify_filesystem_magic(0x65735546).name, "fuse");
}

TEST(NfsWarning, LocalAndUnknownMagicsAreNot) {
  for (std::uint64_t magic : {0xEF53ull, 0x58465342ull, 0x9123683Eull, 0x01021994ull, 0x794C7630ull})
    EXPECT_FALSE(classify_filesystem_magic(magic).network) << std::hex << magic;
  FilesystemKind unknown = classify_filesystem_magic(0x12345678);
  EXPECT_FALSE(unknown.network);
  EXPECT_EQ(unknown.name, "unknown (0x12345678)");
}

TEST(NfsWarning, MessageSaysWhatAndHowToMoveTheCache) {
  EXPECT_FALSE(network_filesystem_warning(classify_filesystem_magic(0xEF53), "/c", "the dataset cache"));
  std::optional<std::string> w =
      network_filesystem_warning(classify_filesystem_magic(0x6969), "/home/u/.cache/kiln", "the dataset cache");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->substr(0, w->find('\n')),
            "kiln: warning: the dataset cache '/home/u/.cache/kiln' is on a network file system (nfs): reading "
            "training data from it will be slow, and slower still when many nodes read at once");
  EXPECT_NE(w->find("export KILN_CACHE_DIR="), std::string::npos);
}

TEST(NfsWarning, ThisMachinesTempDirectoryIsJudged) {
  // statfs of a path that does not exist yet falls back to its parent.
  std::optional<std::uint64_t> magic = filesystem_magic("/tmp/kiln-does-not-exist/a/b");
  ASSERT_TRUE(magic);
  EXPECT_FALSE(classify_filesystem_magic(*magic).name.empty());
}

}  // namespace
}  // namespace kiln::data
