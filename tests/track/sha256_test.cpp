#include "kiln/track/sha256.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "kiln/error.h"
#include "kiln/track/env.h"
#include "support/temp_dir.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// Each test's directory is named after this file.
class TempDir : public kiln::testing::TempDir {
 public:
  TempDir() : kiln::testing::TempDir("kiln_sha256_test") {}
};

// The FIPS 180-4 examples published by NIST (SHA256.pdf, SHA2_Additional.pdf).
TEST(Sha256Test, NistShortMessages) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, NistTwoBlockMessages) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
                       "rsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256Test, NistMillionAs) {
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, PaddingBoundaries) {
  // 55 bytes fit the length in the last block; 56 and 64 need another one.
  // Expected values from Python's hashlib.
  EXPECT_EQ(sha256_hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256Test, ChunkingDoesNotChangeTheDigest) {
  std::string message;
  std::mt19937 gen(7);
  for (int i = 0; i < 1000; ++i) message.push_back(static_cast<char>(gen()));
  const std::string expected = sha256_hex(message);
  for (std::size_t chunk : {1, 3, 63, 64, 65, 127, 999}) {
    Sha256 hash;
    for (std::size_t at = 0; at < message.size(); at += chunk) hash.update(message.substr(at, chunk));
    EXPECT_EQ(hash.size(), message.size());
    EXPECT_EQ(hash.finish_hex(), expected) << "chunk " << chunk;
  }
}

TEST(Sha256Test, FinishStartsOver) {
  Sha256 hash;
  hash.update("garbage");
  hash.finish();
  hash.update("abc");
  EXPECT_EQ(hash.finish_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, LargeFileMatchesSha256sum) {
  TempDir tmp;
  fs::path file = tmp.path() / "big.bin";
  // 9 MiB + 17 bytes: several read chunks and a ragged final block.
  std::string data(9 * (1 << 20) + 17, '\0');
  std::mt19937_64 gen(42);
  for (char& c : data) c = static_cast<char>(gen());
  Env::Default().write_file(file, data, /*sync=*/false);

  std::string command = "sha256sum '" + file.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char out[128] = {};
  ASSERT_NE(std::fgets(out, sizeof out, pipe), nullptr);
  ASSERT_EQ(::pclose(pipe), 0);
  std::string expected = std::string(out).substr(0, 64);

  EXPECT_EQ(sha256_file_hex(file), expected);
  EXPECT_EQ(sha256_hex(data), expected);
}

TEST(Sha256Test, MissingFileIsAnIoErrorNamingThePath) {
  TempDir tmp;
  fs::path missing = tmp.path() / "nope.bin";
  try {
    sha256_file_hex(missing);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + missing.string() + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::strerror(ENOENT)), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
