// `kiln data add|ls|info|fetch|verify` end to end through the real binary,
// with a catalog, a cache and a source directory of the test's own.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "kiln/track/env.h"
#include "kiln/track/sha256.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using kiln::testing::shell_quote;

class DataCli : public ::testing::Test {
 protected:
  kiln::testing::TempDir dir_{"kiln_data_cli"};
  fs::path source_ = dir_.path() / "toy";
  fs::path catalog_ = dir_.path() / "catalog.yaml";
  fs::path cache_ = dir_.path() / "cache";
  kiln::Env& env_ = kiln::Env::Default();

  void SetUp() override {
    env_.create_dirs(source_ / "sub");
    env_.write_file(source_ / "a.txt", "alpha\n");
    env_.write_file(source_ / "sub" / "b.bin", std::string(1000, 'b'));
    env_.write_file(source_ / ".hidden", "not data");
  }

  kiln::testing::CommandResult kiln(const std::string& args, const std::string& env = "") {
    std::string command = "cd " + shell_quote(dir_.path().string()) +
                          " && KILN_CATALOG=" + shell_quote(catalog_.string()) +
                          " KILN_CACHE_DIR=" + shell_quote(cache_.string()) + " " + env + " " +
                          shell_quote(KILN_BINARY) + " data " + args;
    return kiln::testing::run_command(command, dir_.path());
  }
};

TEST_F(DataCli, AddListInfoVerify) {
  auto add = kiln("add toy --from toy --format text --description 'a toy set' --license CC0-1.0");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.out, "added toy@1 to " + catalog_.string() + ": 2 files, 1.0 kB\n");
  std::string text = kiln::testing::read_file(catalog_);
  EXPECT_NE(text.find("name: toy"), std::string::npos) << text;
  EXPECT_NE(text.find(kiln::sha256_hex("alpha\n")), std::string::npos) << text;
  EXPECT_EQ(text.find(".hidden"), std::string::npos) << text;

  auto ls = kiln("ls");
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("toy@1            text    2      1.0 kB   not local  " + catalog_.string()), std::string::npos)
      << ls.out;
  EXPECT_NE(ls.out.find("fashion_mnist@1"), std::string::npos) << ls.out;  // the built-in catalog follows

  auto fetch = kiln("fetch toy");
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  EXPECT_EQ(fetch.out,
            "toy@1: 2 files, 1.0 kB, used in place at " + source_.string() + "\nverified     hashed 1.0 kB now\n");

  auto info = kiln("info toy@1");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("description  a toy set\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("license      CC0-1.0\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("local        in place: " + source_.string() + "\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("  sub/b.bin"), std::string::npos) << info.out;

  auto verify = kiln("verify toy");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("ok: 2 files match the catalog"), std::string::npos) << verify.out;

  env_.write_file(source_ / "a.txt", "alphA\n");
  verify = kiln("verify toy");
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.out.find("a.txt      wrong hash  expected " + kiln::sha256_hex("alpha\n") + ", found " +
                            kiln::sha256_hex("alphA\n")),
            std::string::npos)
      << verify.out;
  fetch = kiln("fetch toy");
  EXPECT_EQ(fetch.exit_code, 74);
  EXPECT_NE(fetch.err.find("SHA-256 mismatch"), std::string::npos) << fetch.err;
}

TEST_F(DataCli, AddAgainMakesANewVersionOnlyWhenFilesChange) {
  ASSERT_EQ(kiln("add toy --from toy").exit_code, 0);
  auto same = kiln("add toy --from toy");
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out, "toy@1 (" + catalog_.string() + ") already has these files; nothing written\n");
  env_.write_file(source_ / "c.txt", "new file\n");
  auto changed = kiln("add toy --from toy");
  EXPECT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_NE(changed.out.find("added toy@2"), std::string::npos) << changed.out;
  auto ls = kiln("ls");
  EXPECT_NE(ls.out.find("toy@1"), std::string::npos);
  EXPECT_NE(ls.out.find("toy@2"), std::string::npos);
  // toy@1 is unchanged and still verifies: c.txt is not one of its files.
  EXPECT_EQ(kiln("verify toy@1").exit_code, 0);
}

TEST_F(DataCli, ErrorsSayWhatAndWhere) {
  auto unknown = kiln("info fashion_mnst");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err,
            "kiln: unknown dataset 'fashion_mnst' (the catalogs define fashion_mnist)\n  hint: did you mean "
            "'fashion_mnist'?\n");
  auto version = kiln("fetch fashion_mnist@9");
  EXPECT_EQ(version.exit_code, 2);
  EXPECT_EQ(version.err, "kiln: dataset 'fashion_mnist' has no version 9 (versions: 1)\n");
  env_.write_file(catalog_, "kiln_catalog: 1\ndatasets:\n  - name: toy\n    verison: 1\n");
  auto bad = kiln("ls");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(catalog_.string() + ":4:14: error: datasets[0].verison: unknown key 'verison'"),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("hint: did you mean 'version'?"), std::string::npos) << bad.err;
  auto usage = kiln("frobnicate");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("the commands are ls, info, fetch, verify, add, pack and tokenize"), std::string::npos);
}

TEST_F(DataCli, OfflineNamesWhatIsMissing) {
  env_.write_file(catalog_,
                  "kiln_catalog: 1\ndatasets:\n  - name: remote\n    version: 1\n    sources: "
                  "[http://127.0.0.1:9/remote]\n    files:\n      - {path: a.bin, size: 3, sha256: " +
                      kiln::sha256_hex("abc") + "}\n");
  auto offline = kiln("fetch remote", "KILN_OFFLINE=1");
  EXPECT_EQ(offline.exit_code, 74);
  EXPECT_NE(offline.err.find("missing 1 of 1 files in " + (cache_ / "datasets/remote/1").string() + ":\n  a.bin"),
            std::string::npos)
      << offline.err;
  EXPECT_NE(offline.err.find("offline (KILN_OFFLINE=1): not trying http://127.0.0.1:9/remote"), std::string::npos)
      << offline.err;
}

TEST_F(DataCli, FashionMnistIsUsedInPlace) {
  auto fetch = kiln("fetch fashion_mnist@1");
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  EXPECT_NE(fetch.out.find("used in place at /usr/share/datasets/fashion-mnist"), std::string::npos) << fetch.out;
  EXPECT_FALSE(fs::exists(cache_ / "datasets/fashion_mnist/1/train-images-idx3-ubyte.gz"));  // not copied
  auto again = kiln("fetch fashion_mnist");
  EXPECT_NE(again.out.find("by earlier checks"), std::string::npos) << again.out;
}

TEST_F(DataCli, CompletesCommandsAndDatasets) {
  std::string prefix = "cd " + shell_quote(dir_.path().string()) +
                       " && KILN_CATALOG=" + shell_quote(catalog_.string()) + " " + shell_quote(KILN_BINARY) +
                       " __complete ";
  auto commands = kiln::testing::run_command(prefix + "data ve", dir_.path());
  EXPECT_EQ(commands.out, "verify\n");
  auto names = kiln::testing::run_command(prefix + "data fetch fashion", dir_.path());
  EXPECT_EQ(names.out, "fashion_mnist\n");
  auto versions = kiln::testing::run_command(prefix + "data fetch fashion_mnist@", dir_.path());
  EXPECT_EQ(versions.out, "fashion_mnist@1\n");
}

// The bytes of a little-endian token file, as ids.
std::vector<std::uint32_t> read_ids(const fs::path& path, int width) {
  const std::string bytes = kiln::testing::read_file(path);
  std::vector<std::uint32_t> ids;
  for (std::size_t at = 0; at + width <= bytes.size(); at += width) {
    std::uint32_t id = 0;
    for (int b = width - 1; b >= 0; --b) id = id << 8 | static_cast<unsigned char>(bytes[at + b]);
    ids.push_back(id);
  }
  return ids;
}

TEST_F(DataCli, TokenizeWritesBytesAsTokenIds) {
  auto r = kiln("tokenize toy/a.txt toy/a.txt --out tokens.bin --dtype uint32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote 12 tokens (uint32) from 2 files to tokens.bin; tokenizer byte, vocabulary 256\n");
  const std::vector<std::uint32_t> alpha = {'a', 'l', 'p', 'h', 'a', '\n'};
  std::vector<std::uint32_t> twice = alpha;
  twice.insert(twice.end(), alpha.begin(), alpha.end());
  EXPECT_EQ(read_ids(dir_.path() / "tokens.bin", 4), twice);
  // The byte tokenizer fits uint16 by default.
  ASSERT_EQ(kiln("tokenize toy/a.txt --out small.bin").exit_code, 0);
  EXPECT_EQ(fs::file_size(dir_.path() / "small.bin"), 12u);
}

TEST_F(DataCli, TokenizeWithASentencePieceModelMatchesPython) {
  // Python trains the model and encodes; kiln's file must hold the same ids,
  // each file's followed by the model's eos id.
  env_.write_file(source_ / "b.txt", "the lazy dog trains a model\n");
  const std::string train =
      "import sentencepiece as spm, random\n"
      "random.seed(3)\n"
      "words = 'the quick brown fox jumps over lazy dog trains a model alpha'.split()\n"
      "open('corpus.txt', 'w').write(''.join(' '.join(random.choice(words) for _ in range(10)) + '\\n' "
      "for _ in range(2000)))\n"
      "spm.SentencePieceTrainer.train(input='corpus.txt', model_prefix='m', vocab_size=40, eos_id=2, "
      "minloglevel=2)\n"
      "sp = spm.SentencePieceProcessor(model_file='m.model')\n"
      "ids = []\n"
      "for path in ('toy/a.txt', 'toy/b.txt'): ids += sp.encode(open(path).read()) + [sp.eos_id()]\n"
      "print(' '.join(map(str, ids)))\n";
  auto python = kiln::testing::run_command(
      "cd " + shell_quote(dir_.path().string()) + " && /usr/bin/python3 -c " + shell_quote(train), dir_.path());
  ASSERT_EQ(python.exit_code, 0) << python.err;
  std::vector<std::uint32_t> expected;
  std::istringstream words(python.out);
  for (std::uint32_t id; words >> id;) expected.push_back(id);
  ASSERT_GT(expected.size(), 4u);

  auto r = kiln("tokenize toy/a.txt toy/b.txt --tokenizer m.model --eos --out lm.bin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(uint16) from 2 files to lm.bin; tokenizer sentencepiece m.model, vocabulary 40"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(read_ids(dir_.path() / "lm.bin", 2), expected);
}

TEST_F(DataCli, TokenizeErrorsLeaveTheOutputAlone) {
  env_.write_file(dir_.path() / "keep.bin", "old!");
  auto missing = kiln("tokenize toy/a.txt toy/none.txt --out keep.bin");
  EXPECT_EQ(missing.exit_code, 74);
  EXPECT_NE(missing.err.find("kiln data tokenize: cannot open 'toy/none.txt': No such file or directory"),
            std::string::npos)
      << missing.err;
  EXPECT_EQ(kiln::testing::read_file(dir_.path() / "keep.bin"), "old!");

  auto eos = kiln("tokenize toy/a.txt --eos --out keep.bin");
  EXPECT_EQ(eos.exit_code, 2);
  EXPECT_NE(eos.err.find("--eos: byte has no end-of-sequence id"), std::string::npos) << eos.err;
  auto dtype = kiln("tokenize toy/a.txt --dtype uint8 --out keep.bin");
  EXPECT_EQ(dtype.exit_code, 2);
  EXPECT_NE(dtype.err.find("--dtype takes uint16 or uint32, found 'uint8'"), std::string::npos) << dtype.err;
  auto model = kiln("tokenize toy/a.txt --tokenizer toy/a.txt --out keep.bin");
  EXPECT_EQ(model.exit_code, 74);
  EXPECT_NE(model.err.find("toy/a.txt: not a SentencePiece model"), std::string::npos) << model.err;
  EXPECT_EQ(kiln("tokenize --out keep.bin").exit_code, 2);
  EXPECT_EQ(kiln::testing::read_file(dir_.path() / "keep.bin"), "old!");
}

}  // namespace
