// .env parsing and loading. Expected values were checked against
// python-dotenv 0.21 (Debian's python3-dotenv, dotenv_values()).
#include "kiln/config/dotenv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "kiln/config/error.h"

namespace kiln::config {
namespace {

std::map<std::string, std::optional<std::string>> values(std::string_view text) {
  std::map<std::string, std::optional<std::string>> out;
  for (auto& entry : parse_dotenv(text, ".env")) out[entry.key] = entry.value;
  return out;
}

class DotenvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kiln_dotenv_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    for (const auto& name : unset_) ::unsetenv(name.c_str());
  }
  std::string write(const std::string& text) {
    auto path = dir_ / ".env";
    std::ofstream(path) << text;
    return path.string();
  }
  void unset_later(std::initializer_list<const char*> names) {
    for (const char* name : names) {
      ::unsetenv(name);
      unset_.emplace_back(name);
    }
  }

  std::filesystem::path dir_;
  std::vector<std::string> unset_;
};

TEST_F(DotenvTest, PlainCommentsAndExport) {
  auto v = values("# comment\nA=1\nexport B = two words  # trailing\nG=b#c\nE=\nexport=x\n\n   \n");
  EXPECT_EQ(v["A"], "1");
  EXPECT_EQ(v["B"], "two words");
  EXPECT_EQ(v["G"], "b#c");  // '#' starts a comment only after whitespace
  EXPECT_EQ(v["E"], "");
  EXPECT_EQ(v["export"], "x");
  EXPECT_EQ(v.size(), 5u);
}

TEST_F(DotenvTest, QuotedValues) {
  auto v = values(R"(C="dq \n nl \t tab \" q \\ bs \x"
D='sq \n \' q'
H="multi
line"
'Q K'=1
S='a # not a comment'   # a comment
)");
  EXPECT_EQ(v["C"], "dq \n nl \t tab \" q \\ bs \\x");
  EXPECT_EQ(v["D"], "sq \\n ' q");
  EXPECT_EQ(v["H"], "multi\nline");
  EXPECT_EQ(v["Q K"], "1");
  EXPECT_EQ(v["S"], "a # not a comment");
}

TEST_F(DotenvTest, KeyWithoutValueHasNone) {
  auto entries = parse_dotenv("F\nA=1\n", ".env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "F");
  EXPECT_FALSE(entries[0].value.has_value());
  EXPECT_EQ(entries[1].line, 2);
}

TEST_F(DotenvTest, BadLinesAreReportedWithFileAndLine) {
  try {
    parse_dotenv("A=1\nM = \"x\" y\nN=\"unterminated\n\nhello world\n=5\nB=2\n", "conf/.env");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 4u) << e.what();
    EXPECT_EQ(e.diagnostics()[0].source.str(), "conf/.env:2:9");
    EXPECT_NE(e.diagnostics()[0].message.find("unexpected 'y' after the value of M"), std::string::npos);
    EXPECT_EQ(e.diagnostics()[1].source.str(), "conf/.env:3:3");
    EXPECT_NE(e.diagnostics()[1].message.find("unterminated quoted value"), std::string::npos);
    EXPECT_EQ(e.diagnostics()[2].source.str(), "conf/.env:5:7");
    EXPECT_NE(e.diagnostics()[2].message.find("expected '=' after 'hello'"), std::string::npos);
    EXPECT_EQ(e.diagnostics()[3].source.str(), "conf/.env:6:1");
    EXPECT_NE(e.diagnostics()[3].message.find("expected a variable name"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("conf/.env:2:9: error:"), std::string::npos);
  }
}

TEST_F(DotenvTest, LoadSetsVariablesButTheEnvironmentWins) {
  unset_later({"KILN_DOTENV_A", "KILN_DOTENV_B", "KILN_DOTENV_C"});
  ::setenv("KILN_DOTENV_B", "from-env", 1);
  auto set = load_dotenv(write("KILN_DOTENV_A=1\nKILN_DOTENV_B=from-file\nKILN_DOTENV_C\n"));
  EXPECT_EQ(set, std::vector<std::string>{"KILN_DOTENV_A"});
  EXPECT_STREQ(std::getenv("KILN_DOTENV_A"), "1");
  EXPECT_STREQ(std::getenv("KILN_DOTENV_B"), "from-env");
  EXPECT_EQ(std::getenv("KILN_DOTENV_C"), nullptr);
}

TEST_F(DotenvTest, RepeatedKeyTakesTheLastValue) {
  unset_later({"KILN_DOTENV_R"});
  auto set = load_dotenv(write("KILN_DOTENV_R=1\nKILN_DOTENV_R=2\n"));
  EXPECT_EQ(set, std::vector<std::string>{"KILN_DOTENV_R"});
  EXPECT_STREQ(std::getenv("KILN_DOTENV_R"), "2");
}

TEST_F(DotenvTest, VariablesExpandFromTheEnvironmentThenTheFile) {
  unset_later(
      {"KILN_DOTENV_HOME", "KILN_DOTENV_X", "KILN_DOTENV_Y", "KILN_DOTENV_Z", "KILN_DOTENV_W", "KILN_DOTENV_NOPE"});
  ::setenv("KILN_DOTENV_HOME", "/h", 1);
  load_dotenv(write(
      "KILN_DOTENV_X=${KILN_DOTENV_HOME}/x\nKILN_DOTENV_Y='${KILN_DOTENV_X}'\nKILN_DOTENV_Z=${KILN_DOTENV_NOPE:-def}\n"
      "KILN_DOTENV_W=[${KILN_DOTENV_NOPE}]\n"));
  EXPECT_STREQ(std::getenv("KILN_DOTENV_X"), "/h/x");
  EXPECT_STREQ(std::getenv("KILN_DOTENV_Y"), "/h/x");  // from the file's earlier line; single quotes expand too
  EXPECT_STREQ(std::getenv("KILN_DOTENV_Z"), "def");
  EXPECT_STREQ(std::getenv("KILN_DOTENV_W"), "[]");
}

TEST_F(DotenvTest, NothingIsSetWhenALineIsBad) {
  unset_later({"KILN_DOTENV_GOOD"});
  EXPECT_THROW(load_dotenv(write("KILN_DOTENV_GOOD=1\nbad line\n")), ConfigError);
  EXPECT_EQ(std::getenv("KILN_DOTENV_GOOD"), nullptr);
}

TEST_F(DotenvTest, MissingFileIsAnIoError) {
  try {
    load_dotenv((dir_ / "absent.env").string());
    FAIL() << "expected IoError";
  } catch (const kiln::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.env"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
}

}  // namespace
}  // namespace kiln::config
