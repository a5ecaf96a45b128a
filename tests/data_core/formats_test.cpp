// Byte sizes and .npy, against what users and numpy write.
#include <gtest/gtest.h>

#include "kiln/data/byte_size.h"
#include "kiln/data/error.h"
#include "kiln/data/npy.h"
#include "kiln/error.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

using kiln::testing::run_command;
using kiln::testing::shell_quote;

TEST(ShardByteSizeTest, ParsesSiAndIecUnits) {
  EXPECT_EQ(parse_byte_size("256MB", "x"), 256'000'000u);
  EXPECT_EQ(parse_byte_size("64KiB", "x"), 65'536u);
  EXPECT_EQ(parse_byte_size("1.5GB", "x"), 1'500'000'000u);
  EXPECT_EQ(parse_byte_size("4096", "x"), 4096u);
  EXPECT_EQ(parse_byte_size("10 kB", "x"), 10'000u);
  EXPECT_EQ(parse_byte_size("2gib", "x"), 2ULL << 30);
  EXPECT_EQ(format_byte_size(65'536), "64 KiB");
  EXPECT_EQ(format_byte_size(256'000'000), "256 MB");
}

TEST(ShardByteSizeTest, BadSizesSayWhatAndWhatIsAccepted) {
  for (const char* bad : {"", "MB", "12XB", "0", "-5MB", "1.5B", "10b"}) {
    try {
      parse_byte_size(bad, "--shard-size");
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const kiln::UsageError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("--shard-size: '" + std::string(bad) + "' is not a byte size"), std::string::npos) << m;
      EXPECT_NE(m.find("expected a number and a unit"), std::string::npos) << m;
    }
  }
  try {
    parse_byte_size("12XB", "--shard-size");
  } catch (const kiln::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown unit 'XB'"), std::string::npos) << e.what();
  }
}

TEST(NpyTest, RoundTripsAndNumpyReadsWhatKilnWrites) {
  kiln::testing::TempDir dir;
  const std::int64_t values[3] = {-1, 2, 1LL << 40};
  const std::string bytes = encode_npy(NpyDtype::kInt64, {3}, values, sizeof values);
  EXPECT_EQ(bytes.size() % 64, 24u);  // 64-byte aligned header, then 24 bytes of data
  const NpyView view = parse_npy(bytes, "x.npy");
  EXPECT_EQ(view.dtype, NpyDtype::kInt64);
  EXPECT_EQ(view.shape, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(std::string(view.data), std::string(reinterpret_cast<const char*>(values), sizeof values));
  {
    std::FILE* f = std::fopen((dir.path() / "k.npy").c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  const auto r = run_command("/usr/bin/python3 -c " +
                                 shell_quote("import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, "
                                             "a.tolist()); numpy.save(sys.argv[2], numpy.arange(6, "
                                             "dtype='<f4').reshape(2,3))") +
                                 " " + shell_quote((dir.path() / "k.npy").string()) + " " +
                                 shell_quote((dir.path() / "n.npy").string()),
                             dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "int64 (3,) [-1, 2, 1099511627776]\n");
  const std::string numpy_bytes = kiln::testing::read_file(dir.path() / "n.npy");
  const NpyView from_numpy = parse_npy(numpy_bytes, "n.npy");
  EXPECT_EQ(from_numpy.dtype, NpyDtype::kFloat32);
  EXPECT_EQ(from_numpy.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(reinterpret_cast<const float*>(from_numpy.data.data())[5], 5.0f);
}

TEST(NpyTest, UnsupportedArraysAreRefusedWithTheReason) {
  const std::uint8_t pixels[4] = {1, 2, 3, 4};
  std::string bytes = encode_npy(NpyDtype::kUInt8, {2, 2}, pixels, 4);
  auto message = [](const std::string& b) {
    try {
      parse_npy(b, "s.input.npy");
    } catch (const DataFormatError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message(bytes.substr(0, bytes.size() - 1)).find("expected 4 bytes of |u1 data for its shape, found 3"),
            std::string::npos);
  std::string big = bytes;
  big.replace(big.find("|u1"), 3, ">u2");
  EXPECT_NE(message(big).find("is not little-endian"), std::string::npos);
  EXPECT_NE(message("hello").find("'s.input.npy': not a readable .npy array: expected the magic"), std::string::npos);
}

// NpyParser skips parsing a repeated header but must still see every change:
// another shape, another dtype, a payload of the wrong length.
TEST(NpyTest, NpyParserReusesARepeatedHeaderAndStillChecksEveryMember) {
  const std::uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  const float f[2] = {0.5f, -1.0f};
  const std::string first = encode_npy(NpyDtype::kUInt8, {2, 2}, a, 4);
  const std::string second = encode_npy(NpyDtype::kUInt8, {2, 2}, b, 4);
  const std::string reshaped = encode_npy(NpyDtype::kUInt8, {4}, b, 4);
  const std::string floats = encode_npy(NpyDtype::kFloat32, {2}, f, sizeof f);
  NpyParser parser;
  EXPECT_EQ(parser.parse(first, "k", "npy").data, std::string_view(reinterpret_cast<const char*>(a), 4));
  const NpyView& v = parser.parse(second, "k", "npy");
  EXPECT_EQ(v.data, std::string_view(reinterpret_cast<const char*>(b), 4));
  EXPECT_EQ(v.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(parser.parse(reshaped, "k", "npy").shape, std::vector<std::int64_t>{4});
  EXPECT_EQ(parser.parse(floats, "k", "npy").dtype, NpyDtype::kFloat32);
  EXPECT_EQ(parser.parse(floats, "k", "npy").shape, std::vector<std::int64_t>{2});
  try {
    parser.parse(std::string_view(floats).substr(0, floats.size() - 1), "00000007", "input.npy");
    FAIL() << "a payload one byte short was accepted after a good member with the same header";
  } catch (const DataFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'00000007.input.npy'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected 8 bytes of <f4 data for its shape, found 7"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln::data
