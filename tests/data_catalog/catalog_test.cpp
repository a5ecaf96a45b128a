// Catalog parsing: a valid catalog, references, lookups, and every error
// with its file:line:col, key path and expectation.
#include "kiln/data/catalog.h"

#include <gtest/gtest.h>

#include "kiln/config/error.h"
#include "kiln/data/catalog_search.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {

const std::string kHash = "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7";

std::string catalog_with(const std::string& entry_body) {
  return "kiln_catalog: 1\ndatasets:\n  - name: toy\n    version: 1\n" + entry_body;
}

const std::string kFiles = "    files:\n      - {path: a.bin, size: 3, sha256: " + kHash + "}\n";
const std::string kSources = "    sources: [/data/toy]\n";

// The message of the ConfigError that parsing `text` throws.
std::string parse_error(const std::string& text) {
  try {
    Catalog::parse(text, "cat.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

TEST(DataCatalog, ParsesEveryField) {
  Catalog c = Catalog::parse(R"(kiln_catalog: 1
datasets:
  - name: toy
    version: 2
    format: csv
    description: a toy table
    license: CC-BY-4.0
    sources:
      - /data/toy
      - https://example.org/toy/
      - {url: s3://bucket/toy, endpoint: http://127.0.0.1:9000, region: eu-west-1}
    files:
      - {path: a.bin, size: 3, sha256: )" +
                                 kHash + R"(}
      - path: sub/b.bin
        size: 0
        sha256: )" + kHash + "\n",
                             "cat.yaml");
  ASSERT_EQ(c.entries().size(), 1u);
  const DatasetEntry& e = c.entries()[0];
  EXPECT_EQ(e.ref(), "toy@2");
  EXPECT_EQ(e.format, "csv");
  EXPECT_EQ(e.description, "a toy table");
  EXPECT_EQ(e.license, "CC-BY-4.0");
  ASSERT_EQ(e.sources.size(), 3u);
  EXPECT_EQ(e.sources[1].url, "https://example.org/toy/");
  EXPECT_EQ(e.sources[2].endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(e.sources[2].region, "eu-west-1");
  ASSERT_EQ(e.files.size(), 2u);
  EXPECT_EQ(e.files[1].path, "sub/b.bin");
  EXPECT_EQ(e.total_size(), 3u);
  EXPECT_EQ(e.catalog, "cat.yaml");
  EXPECT_EQ(e.where.str(), "cat.yaml:3:5");
}

TEST(DataCatalog, ReferencesNameAndVersion) {
  DatasetRef r = parse_dataset_ref("fashion_mnist@1");
  EXPECT_EQ(r.name, "fashion_mnist");
  EXPECT_EQ(r.version, 1);
  EXPECT_FALSE(parse_dataset_ref("fashion_mnist").version.has_value());
  EXPECT_EQ(parse_dataset_ref("toy@12").str(), "toy@12");
  for (const char* bad : {"", "@1", "Toy@1", "toy@", "toy@0", "toy@01", "toy@x", "toy@1@2", "to y"}) {
    try {
      parse_dataset_ref(bad);
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("expected NAME or NAME@VERSION"), std::string::npos) << e.what();
    }
  }
}

TEST(DataCatalog, ResolvesLatestAndSaysWhatIsMissing) {
  std::string text = "kiln_catalog: 1\ndatasets:\n";
  for (int v : {1, 3, 2})
    text += "  - {name: toy, version: " + std::to_string(v) +
            ", sources: [/d], files: [{path: a, size: 1, sha256: " + kHash + "}]}\n";
  Catalog c = Catalog::parse(text, "cat.yaml");
  EXPECT_EQ(c.resolve(parse_dataset_ref("toy")).version, 3);
  EXPECT_EQ(c.resolve(parse_dataset_ref("toy@2")).version, 2);
  EXPECT_EQ(*c.lookup_error(parse_dataset_ref("toy@7")), "dataset 'toy' has no version 7 (versions: 1, 3, 2)");
  EXPECT_EQ(*c.lookup_error(parse_dataset_ref("tyo")),
            "unknown dataset 'tyo' (the catalogs define toy)\n  hint: did you mean 'toy'?");
  EXPECT_THROW(c.resolve(parse_dataset_ref("nothing_like_it")), UsageError);
}

TEST(DataCatalog, FirstCatalogWins) {
  Catalog first = Catalog::parse(catalog_with("    description: first\n" + kSources + kFiles), "first.yaml");
  Catalog second = Catalog::parse(catalog_with("    description: second\n" + kSources + kFiles), "second.yaml");
  first.add_all(second);
  ASSERT_EQ(first.entries().size(), 1u);
  EXPECT_EQ(first.entries()[0].description, "first");
}

TEST(DataCatalogErrors, UnknownKeysWithDidYouMean) {
  EXPECT_EQ(parse_error(catalog_with("    licence: MIT\n" + kSources + kFiles)),
            "cat.yaml:5:14: error: datasets[0].licence: unknown key 'licence' (expected one of: name, version, format, "
            "description, license, sources, files)\n  hint: did you mean 'license'?");
  EXPECT_NE(parse_error("kiln_catalog: 1\ndataset: []\n").find("cat.yaml:2:10: error: dataset: unknown key 'dataset'"),
            std::string::npos);
}

TEST(DataCatalogErrors, MissingAndMistypedFields) {
  std::string e = parse_error("kiln_catalog: 1\ndatasets:\n  - name: toy\n");
  EXPECT_NE(e.find("cat.yaml:3:5: error: datasets[0].version: missing required field 'version' (an integer >= 1)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("datasets[0].sources: missing required field 'sources'"), std::string::npos) << e;
  EXPECT_NE(e.find("datasets[0].files: missing required field 'files'"), std::string::npos) << e;
  EXPECT_NE(e.find("3 config errors"), std::string::npos) << e;

  e = parse_error("kiln_catalog: 1\ndatasets:\n  - name: toy\n    version: one\n" + kSources + kFiles);
  EXPECT_NE(e.find("cat.yaml:4:14: error: datasets[0].version: expected an integer >= 1, found string 'one'"),
            std::string::npos)
      << e;
  e = parse_error("kiln_catalog: 1\ndatasets:\n  - name: toy\n    version: 0\n" + kSources + kFiles);
  EXPECT_NE(e.find("datasets[0].version: expected an integer >= 1, found 0"), std::string::npos) << e;
}

TEST(DataCatalogErrors, BadNamesPathsHashesAndSources) {
  std::string e = parse_error("kiln_catalog: 1\ndatasets:\n  - name: Toy\n    version: 1\n" + kSources + kFiles);
  EXPECT_NE(e.find("cat.yaml:3:11: error: datasets[0].name: expected a name of lowercase letters"), std::string::npos)
      << e;
  e = parse_error(
      catalog_with(kSources + "    files:\n      - {path: ../etc/passwd, size: 3, sha256: " + kHash + "}\n"));
  EXPECT_NE(e.find("datasets[0].files[0].path: expected a relative path inside the dataset directory, found a '..' "
                   "segment in '../etc/passwd'"),
            std::string::npos)
      << e;
  e = parse_error(catalog_with(kSources + "    files:\n      - {path: /abs, size: 3, sha256: " + kHash + "}\n"));
  EXPECT_NE(e.find("found an absolute path in '/abs'"), std::string::npos) << e;
  e = parse_error(catalog_with(kSources + "    files:\n      - {path: a, size: -1, sha256: abc}\n"));
  EXPECT_NE(e.find("datasets[0].files[0].size: expected an integer >= 0, found -1"), std::string::npos) << e;
  EXPECT_NE(e.find("datasets[0].files[0].sha256: expected 64 lowercase hex digits (sha256sum's output), found 'abc' (3 "
                   "characters)"),
            std::string::npos)
      << e;
  e = parse_error(catalog_with("    sources: [ftp://host/x]\n" + kFiles));
  EXPECT_NE(e.find("cat.yaml:5:15: error: datasets[0].sources[0]: expected a path or a file://, http://, https:// or "
                   "s3:// URL, found an unsupported scheme 'ftp://host/x'"),
            std::string::npos)
      << e;
  e = parse_error(catalog_with("    sources: []\n" + kFiles));
  EXPECT_NE(e.find("datasets[0].sources: expected at least one source, found none"), std::string::npos) << e;
  e = parse_error(catalog_with("    sources: [{url: https://x/y, region: eu-west-1}]\n" + kFiles));
  EXPECT_NE(e.find("'endpoint' and 'region' apply to s3:// sources only"), std::string::npos) << e;
  e = parse_error(catalog_with("    sources: [{url: s3://b/p, endpoint: 127.0.0.1:9000}]\n" + kFiles));
  EXPECT_NE(e.find("datasets[0].sources[0].endpoint: expected an http:// or https:// URL, found '127.0.0.1:9000'"),
            std::string::npos)
      << e;
}

TEST(DataCatalogErrors, DuplicatesAndFormatVersion) {
  std::string file = "      - {path: a.bin, size: 3, sha256: " + kHash + "}\n";
  std::string e = parse_error(catalog_with(kSources + "    files:\n" + file + file));
  EXPECT_NE(e.find("datasets[0].files[1].path: file 'a.bin' is listed twice"), std::string::npos) << e;
  std::string entry =
      "  - {name: toy, version: 1, sources: [/d], files: [{path: a, size: 1, sha256: " + kHash + "}]}\n";
  e = parse_error("kiln_catalog: 1\ndatasets:\n" + entry + entry);
  EXPECT_NE(e.find("cat.yaml:4:5: error: datasets[1]: dataset toy@1 is defined twice in this catalog"),
            std::string::npos)
      << e;
  e = parse_error("datasets: []\n");
  EXPECT_NE(e.find("kiln_catalog: missing 'kiln_catalog: 1'"), std::string::npos) << e;
  e = parse_error("kiln_catalog: 2\ndatasets: []\n");
  EXPECT_NE(e.find("catalog format 2 is newer than this kiln reads (1)\n  hint: upgrade kiln"), std::string::npos) << e;
  e = parse_error("kiln_catalog: 1\ndatasets: {toy: 1}\n");
  EXPECT_NE(e.find("datasets: expected a list of datasets, found map"), std::string::npos) << e;
  e = parse_error("kiln_catalog: 1\ndatasets: [\n");
  EXPECT_NE(e.find("cat.yaml:"), std::string::npos) << e;  // yaml-cpp's syntax error, with the position
}

TEST(DataCatalogSearch, KilnCatalogFirstThenBuiltIn) {
  testing::TempDir dir;
  CatalogLocations none = catalog_locations(nullptr, dir.path());
  EXPECT_TRUE(none.files.empty());  // ./data/catalog.yaml does not exist
  EXPECT_EQ(none.write_target, dir.path() / "data" / "catalog.yaml");
  CatalogLocations listed = catalog_locations("a.yaml:/abs/b.yaml", dir.path());
  ASSERT_EQ(listed.files.size(), 2u);
  EXPECT_EQ(listed.files[0], dir.path() / "a.yaml");
  EXPECT_EQ(listed.files[1], "/abs/b.yaml");
  EXPECT_EQ(listed.write_target, dir.path() / "a.yaml");

  // A relative plain-path source is relative to its catalog's directory.
  Env::Default().write_file(dir.path() / "a.yaml", catalog_with("    sources: [toy_files]\n" + kFiles));
  Catalog c = load_catalogs(listed, Env::Default());
  ASSERT_NE(c.find("toy", 1), nullptr);
  EXPECT_EQ(c.find("toy", 1)->sources[0].url, (dir.path() / "toy_files").string());
  const DatasetEntry* fmnist = c.find("fashion_mnist", 1);
  ASSERT_NE(fmnist, nullptr);  // from the built-in catalog
  EXPECT_EQ(fmnist->catalog, kBuiltinCatalogOrigin);
  EXPECT_EQ(fmnist->files.size(), 4u);
}

}  // namespace
}  // namespace kiln::data
