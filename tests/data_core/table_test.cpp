#include "kiln/data/table.h"

#include <gtest/gtest.h>

#include "kiln/data/error.h"
#include "kiln/track/env.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

TEST(TableTest, ReadsCsvAndTsvWithTheLabelAnywhere) {
  kiln::testing::TempDir dir;
  Env::Default().write_file(dir.path() / "a.csv", "x,label,\"y, quoted\"\r\n1.5,2,-3e2\n\n0,0,4\n");
  const Table t = read_table(dir.path() / "a.csv");
  EXPECT_EQ(t.feature_names, (std::vector<std::string>{"x", "y, quoted"}));
  EXPECT_EQ(t.features, (std::vector<float>{1.5f, -300.0f, 0.0f, 4.0f}));
  EXPECT_EQ(t.labels, (std::vector<std::int64_t>{2, 0}));
  Env::Default().write_file(dir.path() / "b.tsv", "class\ta\tb\n7\t1\t2\n");
  const Table u = read_table(dir.path() / "b.tsv", {.label_column = "class"});
  EXPECT_EQ(u.features, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(u.labels, (std::vector<std::int64_t>{7}));
}

TEST(TableTest, BadRowsNameFileLineColumnAndField) {
  kiln::testing::TempDir dir;
  auto message = [&](const std::string& text, TableOptions o = {}) {
    Env::Default().write_file(dir.path() / "t.csv", text);
    try {
      read_table(dir.path() / "t.csv", o);
    } catch (const DataFormatError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string file = (dir.path() / "t.csv").string();
  EXPECT_EQ(message("x,label\n1,2\nabc,3\n"), file + ":3:1: column 'x': 'abc' is not a number");
  EXPECT_EQ(message("x,label\n1,2.5\n"), file + ":2:2: label '2.5' is not an integer");
  EXPECT_EQ(message("x,label\n1,2,3\n"), file + ":2: expected 2 fields as in the header, found 3");
  EXPECT_EQ(message("x,y\n1,2\n"), file + ":1: no label column 'label' in the header (set the label column's name)");
}

}  // namespace
}  // namespace kiln::data
