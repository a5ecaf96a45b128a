// `kiln data add|ls|info|fetch|verify` end to end through the real binary,
// with a catalog, a cache and a source directory of the test's own.
#include <gtest/gtest.h>

#include <filesystem>

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
  EXPECT_NE(usage.err.find("the commands are ls, info, fetch, verify, add and pack"), std::string::npos);
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

}  // namespace
