// `kiln data add`'s catalog edits: one entry's lines change, nothing else.
#include "kiln/data/catalog_writer.h"

#include <gtest/gtest.h>

#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

DatasetEntry toy(std::int64_t version, const std::string& content) {
  DatasetEntry e;
  e.name = "toy";
  e.version = version;
  e.description = "a toy: with a colon, and a comma";
  e.sources.push_back(DatasetSource{"/data/toy dir", "", "", {}});
  e.sources.push_back(DatasetSource{"s3://bucket/toy", "http://127.0.0.1:9000", "eu-west-1", {}});
  e.files.push_back(CatalogFile{"a b.bin", content.size(), sha256_hex(content)});
  return e;
}

const std::string kExisting = R"(# My project's datasets.
kiln_catalog: 1
datasets:
  # the first one
  - {name: other, version: 1, sources: [/o], files: [{path: x, size: 1, sha256: )" +
                              sha256_hex("x") + R"(}]}

  - name: toy
    version: 1
    sources: [/old]
    files:
      - {path: a, size: 1, sha256: )" +
                              sha256_hex("a") + R"(}
  # trailing comment kept
)";

TEST(DataCatalogWriter, NewCatalogRoundTrips) {
  std::string text = upsert_catalog_entry("", toy(1, "abc"), "new.yaml");
  Catalog c = Catalog::parse(text, "new.yaml");
  ASSERT_EQ(c.entries().size(), 1u);
  const DatasetEntry& e = c.entries()[0];
  EXPECT_EQ(e.description, "a toy: with a colon, and a comma");
  EXPECT_EQ(e.sources[0].url, "/data/toy dir");
  EXPECT_EQ(e.sources[1].endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(e.files[0].path, "a b.bin");
  EXPECT_EQ(e.files[0].sha256, sha256_hex("abc"));
}

TEST(DataCatalogWriter, AppendsKeepingEverythingElseByteForByte) {
  std::string text = upsert_catalog_entry(kExisting, toy(2, "abc"), "cat.yaml");
  // The old text is a prefix up to the new entry, which goes after toy@1's
  // lines and before the trailing comment.
  std::string before_comment = kExisting.substr(0, kExisting.find("  # trailing comment kept"));
  EXPECT_TRUE(text.starts_with(before_comment)) << text;
  EXPECT_TRUE(text.ends_with("  # trailing comment kept\n")) << text;
  Catalog c = Catalog::parse(text, "cat.yaml");
  EXPECT_EQ(c.entries().size(), 3u);
  EXPECT_EQ(c.find("toy", 1)->sources[0].url, "/old");
  EXPECT_EQ(c.find("toy", 2)->files[0].size, 3u);
}

TEST(DataCatalogWriter, ReplacesTheSameVersionOnly) {
  std::string text = upsert_catalog_entry(kExisting, toy(1, "abcd"), "cat.yaml");
  EXPECT_NE(text.find("# My project's datasets.\n"), std::string::npos);
  EXPECT_NE(text.find("  # the first one\n  - {name: other"), std::string::npos);
  EXPECT_NE(text.find("  # trailing comment kept\n"), std::string::npos);
  EXPECT_EQ(text.find("/old"), std::string::npos);
  Catalog c = Catalog::parse(text, "cat.yaml");
  ASSERT_EQ(c.entries().size(), 2u);
  EXPECT_EQ(c.find("toy", 1)->files[0].size, 4u);
  EXPECT_EQ(c.find("other", 1)->files[0].path, "x");
}

TEST(DataCatalogWriter, RefusesWhatItCannotEditSafely) {
  std::string flow =
      "kiln_catalog: 1\ndatasets: [{name: other, version: 1, sources: [/o], files: [{path: x, size: 1, "
      "sha256: " +
      sha256_hex("x") + "}]}]\n";
  try {
    upsert_catalog_entry(flow, toy(1, "a"), "flow.yaml");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot edit catalog 'flow.yaml' in place"), std::string::npos) << e.what();
  }
  EXPECT_THROW(upsert_catalog_entry("kiln_catalog: 1\ndatasets: 3\n", toy(1, "a"), "bad.yaml"), Error);
}

TEST(DataCatalogWriter, WritesAtomicallyAndCreatesTheDirectory) {
  testing::TempDir dir;
  std::filesystem::path file = dir.path() / "data" / "catalog.yaml";
  write_catalog_entry(file, toy(1, "a"), Env::Default());
  write_catalog_entry(file, toy(2, "b"), Env::Default());
  Catalog c = Catalog::parse(Env::Default().read_file(file), file.string());
  EXPECT_EQ(c.entries().size(), 2u);
  EXPECT_EQ(Env::Default().list_dir(dir.path() / "data"), std::vector<std::string>{"catalog.yaml"});
}

}  // namespace
}  // namespace kiln::data
