#include "kiln/data/token_file.h"

#include <gtest/gtest.h>

#include "kiln/data/error.h"
#include "kiln/error.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::run_command;
using kiln::testing::shell_quote;

TEST(TokenFileTest, ReadsWhatNumpyToFileWritesInBothWidths) {
  kiln::testing::TempDir dir;
  const auto r = run_command("/usr/bin/python3 -c " +
                                 shell_quote("import numpy,sys; numpy.array([1, 65535, 7, 300], "
                                             "dtype='<u2').tofile(sys.argv[1]+'/a.bin'); numpy.array([70000, 0, "
                                             "4000000000], dtype='<u4').tofile(sys.argv[1]+'/b.bin')") +
                                 " " + shell_quote(dir.path().string()),
                             dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  TokenFile a(dir.path() / "a.bin", TokenWidth::kUInt16);
  EXPECT_EQ(a.size(), 4u);
  EXPECT_EQ(a.window(0, 4), (std::vector<std::uint32_t>{1, 65535, 7, 300}));
  TokenFile b(dir.path() / "b.bin", TokenWidth::kUInt32);
  EXPECT_EQ(b.window(1, 2), (std::vector<std::uint32_t>{0, 4000000000u}));
  // 12 bytes read as uint16 are 6 tokens: the width is the caller's to know.
  EXPECT_EQ(TokenFile(dir.path() / "b.bin", TokenWidth::kUInt16).size(), 6u);
  std::filesystem::resize_file(dir.path() / "a.bin", 7);
  try {
    TokenFile odd(dir.path() / "a.bin", TokenWidth::kUInt16);
    FAIL() << "a 7-byte uint16 file was accepted";
  } catch (const DataFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("7 bytes is not a whole number of 16-bit tokens"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(b.window(2, 2), kiln::Error);
}

TEST(TokenFileTest, RandomWindowsAreSeededAndInRange) {
  const auto a = random_window_starts(1000, 129, 256, 5);
  EXPECT_EQ(a, random_window_starts(1000, 129, 256, 5));
  EXPECT_NE(a, random_window_starts(1000, 129, 256, 6));
  for (auto s : a) EXPECT_LE(s + 129, 1000u);
  EXPECT_EQ(random_window_starts(129, 129, 3, 1), (std::vector<std::uint64_t>{0, 0, 0}));
  EXPECT_THROW(random_window_starts(100, 129, 1, 1), kiln::Error);
}

TEST(TokenFileTest, ByteTokenizerRoundTripsTextThroughATokenFile) {
  kiln::testing::TempDir dir;
  const std::string text = "kiln — bytes\n\x01\xff";
  const auto tokens = byte_tokenize(text);
  EXPECT_EQ(tokens.size(), text.size());
  EXPECT_EQ(tokens[0], static_cast<std::uint32_t>('k'));
  write_token_file(dir.path() / "t.bin", tokens, TokenWidth::kUInt16);
  TokenFile file(dir.path() / "t.bin", TokenWidth::kUInt16);
  EXPECT_EQ(byte_detokenize(file.window(0, file.size())), text);
  EXPECT_THROW(write_token_file(dir.path() / "x.bin", {70000}, TokenWidth::kUInt16), kiln::Error);
}

}  // namespace
}  // namespace kiln::data
