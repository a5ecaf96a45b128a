// Tests for load_idx (kiln/data/idx.h) on small files the tests write, raw
// and gzip-compressed, and for each of its errors.
#include "kiln/data/idx.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/data/error.h"

namespace kiln::data {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kiln_idx_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write_raw(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  std::string write_gzip(const std::string& name, const Bytes& bytes) {
    const std::string path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (!bytes.empty()) {
      EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
    }
    gzclose(f);
    return path;
  }
  Bytes read_raw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

// The IDX header: magic 00 00 type ndims, then each size big-endian.
Bytes header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  Bytes out{0, 0, type, static_cast<unsigned char>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<unsigned char>(d >> shift));
  }
  return out;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// 2 images of 2x3 pixels: 0..11.
Bytes images_2x2x3() {
  Bytes pixels(12);
  for (int i = 0; i < 12; ++i) pixels[i] = static_cast<unsigned char>(i * 20);
  return header(0x08, {2, 2, 3}) + pixels;
}

std::string message_of(const std::string& path) {
  try {
    load_idx(path);
  } catch (const DataFormatError& e) {
    return std::string("DataFormatError: ") + e.what();
  } catch (const kiln::IoError& e) {
    return std::string("IoError: ") + e.what();
  }
  return "no error";
}

TEST_F(IdxTest, ReadsUnsignedBytesFromGzipAndRawFilesAlike) {
  const torch::Tensor expected =
      torch::tensor({0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220}, torch::kUInt8).reshape({2, 2, 3});
  for (const std::string& path : {write_gzip("images.gz", images_2x2x3()), write_raw("images", images_2x2x3())}) {
    torch::Tensor t = load_idx(path);
    EXPECT_EQ(t.scalar_type(), torch::kUInt8) << path;
    EXPECT_EQ(t.sizes(), torch::IntArrayRef({2, 2, 3})) << path;
    EXPECT_TRUE(t.equal(expected)) << path;
  }
}

TEST_F(IdxTest, ReadsMultiByteTypesBigEndian) {
  // int32 [2]: 1, -2; float32 [1]: 1.5 (0x3fc00000); int16 [1]: 258; float64 [1]: -2.0.
  torch::Tensor i32 = load_idx(write_raw("i32", header(0x0C, {2}) + Bytes{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe}));
  EXPECT_EQ(i32.scalar_type(), torch::kInt32);
  EXPECT_TRUE(i32.equal(torch::tensor({1, -2}, torch::kInt32)));
  torch::Tensor f32 = load_idx(write_gzip("f32.gz", header(0x0D, {1}) + Bytes{0x3f, 0xc0, 0, 0}));
  EXPECT_EQ(f32.scalar_type(), torch::kFloat32);
  EXPECT_EQ(f32.item<float>(), 1.5f);
  EXPECT_EQ(load_idx(write_raw("i16", header(0x0B, {1}) + Bytes{1, 2})).item<std::int16_t>(), 258);
  EXPECT_EQ(load_idx(write_raw("f64", header(0x0E, {1}) + Bytes{0xc0, 0, 0, 0, 0, 0, 0, 0})).item<double>(), -2.0);
  torch::Tensor i8 = load_idx(write_raw("i8", header(0x09, {2}) + Bytes{0xff, 5}));
  EXPECT_EQ(i8.scalar_type(), torch::kInt8);
  EXPECT_TRUE(i8.equal(torch::tensor({-1, 5}, torch::kInt8)));
}

TEST_F(IdxTest, ReadsAnEmptyPayloadWhenADimensionIsZero) {
  torch::Tensor t = load_idx(write_gzip("empty.gz", header(0x08, {0, 28, 28})));
  EXPECT_EQ(t.sizes(), torch::IntArrayRef({0, 28, 28}));
}

TEST_F(IdxTest, MissingFileIsAnIoErrorWithThePathAndStrerror) {
  const std::string path = (dir_ / "absent.gz").string();
  EXPECT_EQ(message_of(path), "IoError: cannot open IDX file '" + path + "': No such file or directory");
}

TEST_F(IdxTest, DirectoryIsAnIoErrorWithStrerror) {
  EXPECT_EQ(message_of(dir_.string()), "IoError: cannot read IDX file '" + dir_.string() + "': Is a directory");
}

TEST_F(IdxTest, BadMagicNamesExpectedAndFound) {
  const std::string path = write_raw("text", Bytes{'h', 'e', 'l', 'l', 'o', '!'});
  EXPECT_EQ(message_of(path), "DataFormatError: '" + path +
                                  "': not an IDX file: expected the magic number 00 00 TT NN (TT a type code: 08, "
                                  "09, 0b, 0c, 0d or 0e; NN >= 1 dimensions), found 68 65 6c 6c");
}

TEST_F(IdxTest, UnknownTypeCodeIsNamed) {
  const std::string path = write_gzip("type.gz", header(0x07, {1}) + Bytes{0});
  EXPECT_NE(message_of(path).find("found 00 00 07 01 (unknown type code 07)"), std::string::npos) << message_of(path);
}

TEST_F(IdxTest, ZeroDimensionsIsRejected) {
  const std::string path = write_raw("nodims", Bytes{0, 0, 8, 0});
  EXPECT_NE(message_of(path).find("found 00 00 08 00 (no dimensions)"), std::string::npos) << message_of(path);
}

TEST_F(IdxTest, TruncatedHeaderSaysHowManyBytesWereFound) {
  const std::string empty = write_gzip("empty_file.gz", {});
  EXPECT_EQ(message_of(empty),
            "DataFormatError: '" + empty + "': truncated IDX header: expected a 4-byte magic number, found 0 bytes");
  const std::string dims = write_raw("dims", Bytes{0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
  EXPECT_EQ(message_of(dims), "DataFormatError: '" + dims +
                                  "': truncated IDX header: expected 3 dimensions (12 bytes) after the magic number, "
                                  "found 6 bytes");
}

TEST_F(IdxTest, TruncatedPayloadNamesExpectedAndFoundBytes) {
  Bytes bytes = images_2x2x3();
  bytes.resize(bytes.size() - 5);
  for (const std::string& path : {write_raw("short", bytes), write_gzip("short.gz", bytes)}) {
    EXPECT_EQ(message_of(path), "DataFormatError: '" + path +
                                    "': truncated IDX payload: expected 12 bytes for shape [2, 2, 3] of unsigned "
                                    "byte, found 7 bytes");
  }
}

TEST_F(IdxTest, BytesAfterThePayloadAreRejected) {
  const std::string path = write_gzip("long.gz", images_2x2x3() + Bytes{1});
  EXPECT_EQ(message_of(path), "DataFormatError: '" + path +
                                  "': IDX payload longer than its header declares: expected 12 bytes for shape "
                                  "[2, 2, 3] of unsigned byte, found more");
}

TEST_F(IdxTest, TruncatedGzipStreamIsAFormatError) {
  Bytes big = header(0x08, {100, 100});
  for (int i = 0; i < 10000; ++i) big.push_back(static_cast<unsigned char>((i * 7919) % 251));
  Bytes gz = read_raw(write_gzip("big.gz", big));
  gz.resize(gz.size() / 2);
  const std::string path = write_raw("cut.gz", gz);
  EXPECT_EQ(message_of(path), "DataFormatError: '" + path +
                                  "': truncated gzip stream (unexpected end of file): expected a complete "
                                  "gzip-compressed IDX file");
}

TEST_F(IdxTest, CorruptGzipStreamIsAFormatError) {
  Bytes gz = read_raw(write_gzip("ok.gz", images_2x2x3()));
  for (std::size_t i = 10; i < gz.size(); ++i) gz[i] ^= 0x5a;  // the deflate data and trailer
  const std::string path = write_raw("corrupt.gz", gz);
  const std::string message = message_of(path);
  EXPECT_EQ(message.rfind("DataFormatError: '" + path + "': corrupt gzip stream: ", 0), 0u) << message;
}

TEST_F(IdxTest, HugeDeclaredShapeOnAShortFileFailsWithoutAllocatingIt) {
  const std::string path = write_raw("huge", header(0x0E, {0xffffffff, 0xffffffff, 4}) + Bytes{1, 2, 3});
  EXPECT_NE(message_of(path).find("too large to load"), std::string::npos) << message_of(path);
  const std::string big = write_raw("big", header(0x08, {0x7fffffff, 16}) + Bytes{1, 2, 3});
  EXPECT_NE(message_of(big).find("truncated IDX payload: expected 34359738352 bytes"), std::string::npos)
      << message_of(big);
}

}  // namespace
}  // namespace kiln::data
