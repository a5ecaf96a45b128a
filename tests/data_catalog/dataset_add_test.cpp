// add_dataset (`kiln data add`) from a directory and from a real HTTP
// server: hashes, versions, and the catalog file it writes.
#include "kiln/data/dataset_add.h"

#include <gtest/gtest.h>

#include "kiln/data/catalog_search.h"
#include "kiln/data/dataset_cache.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"
#include "range_file_server.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {
namespace fs = std::filesystem;

struct AddFixture {
  testing::TempDir tmp{"kiln_add_test"};
  fs::path files = tmp.path() / "files";
  fs::path catalog = tmp.path() / "catalog.yaml";
  Env& env = Env::Default();
  DatasetCache cache{CacheOptions{tmp.path() / "cache", false, nullptr}};

  AddFixture() {
    env.create_dirs(files / "dir");
    env.write_file(files / "a.bin", "alpha");
    env.write_file(files / "dir" / "b.bin", "beta");
  }
  Catalog known() { return load_catalog_file(catalog, env); }
};

TEST(DataAdd, FromAUrlDownloadsIntoTheCacheSoFetchIsFree) {
  AddFixture f;
  testing::RangeFileServer server(f.files);
  AddOptions o{.name = "remote", .from = server.url() + "/", .files = {"a.bin", "dir/b.bin"}};
  AddResult r = add_dataset(o, f.known(), f.catalog, f.cache, f.env);
  EXPECT_FALSE(r.unchanged);
  ASSERT_EQ(r.entry.files.size(), 2u);
  EXPECT_EQ(r.entry.files[1].sha256, sha256_hex("beta"));
  Catalog after = f.known();
  const DatasetEntry* written = after.find("remote", 1);
  ASSERT_NE(written, nullptr);
  EXPECT_EQ(written->sources[0].url, server.url() + "/");
  std::size_t requests = server.requests().size();
  EXPECT_EQ(requests, 2u);
  LocalDataset local = f.cache.ensure(*written);  // verified from the cache, no new request
  EXPECT_EQ(local.root, f.cache.dataset_dir(*written));
  EXPECT_EQ(server.requests().size(), requests);
}

TEST(DataAdd, SingleFileUrlAndUnchangedAddsWriteNothingNew) {
  AddFixture f;
  testing::RangeFileServer server(f.files);
  AddOptions o{.name = "one", .from = server.url() + "/dir/b.bin"};
  AddResult first = add_dataset(o, f.known(), f.catalog, f.cache, f.env);
  EXPECT_EQ(first.entry.sources[0].url, server.url() + "/dir");
  EXPECT_EQ(first.entry.files[0].path, "b.bin");
  std::string text = f.env.read_file(f.catalog);
  AddResult again = add_dataset(o, f.known(), f.catalog, f.cache, f.env);
  EXPECT_TRUE(again.unchanged);
  EXPECT_EQ(again.entry.version, 1);
  EXPECT_EQ(f.env.read_file(f.catalog), text);
  EXPECT_FALSE(f.env.exists(f.tmp.path() / "cache/datasets/one/2"));  // the second download was dropped
}

TEST(DataAdd, ExplicitVersionReplacesAndBadOptionsAreRefused) {
  AddFixture f;
  AddOptions o{.name = "local", .from = f.files.string(), .description = "first"};
  add_dataset(o, f.known(), f.catalog, f.cache, f.env);
  o.version = 1;
  o.description = "second";
  add_dataset(o, f.known(), f.catalog, f.cache, f.env);
  Catalog c = f.known();
  ASSERT_EQ(c.entries().size(), 1u);
  EXPECT_EQ(c.entries()[0].description, "second");
  EXPECT_EQ(c.entries()[0].files.size(), 2u);

  EXPECT_THROW(add_dataset(AddOptions{.name = "Bad Name", .from = f.files.string()}, c, f.catalog, f.cache, f.env),
               UsageError);
  EXPECT_THROW(
      add_dataset(AddOptions{.name = "x", .from = (f.tmp.path() / "nope").string()}, c, f.catalog, f.cache, f.env),
      IoError);
  EXPECT_THROW(add_dataset(AddOptions{.name = "x", .from = "https://host/dir/"}, c, f.catalog, f.cache, f.env),
               UsageError);
  EXPECT_THROW(add_dataset(AddOptions{.name = "x", .from = f.files.string(), .endpoint = "http://h"}, c, f.catalog,
                           f.cache, f.env),
               UsageError);
}

}  // namespace
}  // namespace kiln::data
