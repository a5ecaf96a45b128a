// The cache over real sources: a directory (in place and copied), kiln's
// HTTP server on 127.0.0.1 with Range; resume, hash mismatch, offline.
#include "kiln/data/dataset_cache.h"

#include <gtest/gtest.h>

#include "cut_connection_server.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"
#include "range_file_server.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {
namespace fs = std::filesystem;

struct Fixture {
  testing::TempDir tmp{"kiln_cache_test"};
  fs::path source = tmp.path() / "source";
  fs::path cache = tmp.path() / "cache";
  Env& env = Env::Default();

  // Writes `files` under source/ and returns their catalog entry.
  DatasetEntry dataset(const std::vector<std::pair<std::string, std::string>>& files,
                       std::vector<std::string> sources) {
    DatasetEntry e;
    e.name = "toy";
    e.version = 1;
    e.catalog = "test.yaml";
    for (const auto& [path, content] : files) {
      env.create_dirs((source / path).parent_path());
      env.write_file(source / path, content);
      e.files.push_back(CatalogFile{path, content.size(), sha256_hex(content)});
    }
    for (auto& s : sources) e.sources.push_back(DatasetSource{s, "", "", {}});
    return e;
  }
  DatasetCache make_cache(bool offline = false, std::vector<std::string>* log = nullptr) {
    CacheOptions o{cache, offline, nullptr};
    if (log) o.progress = [log](const std::string& line) { log->push_back(line); };
    return DatasetCache(o);
  }
};

std::string big(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

TEST(DataCache, LocalSourceIsUsedInPlaceAndStampedOnce) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "alpha"}, {"sub/b.bin", big(5000)}}, {f.source.string()});
  DatasetCache cache = f.make_cache();
  LocalDataset first = cache.ensure(e);
  EXPECT_TRUE(first.in_place);
  EXPECT_EQ(first.root, f.source);
  EXPECT_EQ(first.hashed_bytes, 5005u);
  EXPECT_EQ(first.fetched_bytes, 0u);
  EXPECT_FALSE(f.env.exists(f.cache / "datasets/toy/1/a.bin"));  // not copied
  // The second time the stamps vouch for the files: nothing is hashed.
  LocalDataset second = cache.ensure(e);
  EXPECT_TRUE(second.in_place);
  EXPECT_EQ(second.hashed_bytes, 0u);
  ASSERT_TRUE(cache.find_local(e).has_value());
  EXPECT_EQ(cache.find_local(e)->root, f.source);
}

TEST(DataCache, EditedSourceFileIsHashedAgainAndRefused) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "alpha"}}, {f.source.string()});
  DatasetCache cache = f.make_cache();
  cache.ensure(e);
  f.env.write_file(f.source / "a.bin", "alphA");  // same size, new mtime, other bytes
  try {
    cache.ensure(e);
    FAIL() << "an edited file was accepted";
  } catch (const IoError& error) {
    std::string m = error.what();
    EXPECT_NE(m.find("cannot make dataset toy@1 (test.yaml) local"), std::string::npos) << m;
    EXPECT_NE(m.find((f.source / "a.bin").string() + ": SHA-256 mismatch: the catalog (<unknown>) expects " +
                     sha256_hex("alpha") + ", the file has " + sha256_hex("alphA")),
              std::string::npos)
        << m;
  }
  EXPECT_FALSE(cache.find_local(e).has_value());
  EXPECT_EQ(f.env.read_file(f.source / "a.bin"), "alphA");  // the source is never touched
}

TEST(DataCache, FetchesOverHttpIntoTheCacheAtomically) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", big(100000)}, {"dir/b c.bin", "bee"}}, {});
  testing::RangeFileServer server(f.source);
  e.sources.push_back(DatasetSource{server.url() + "/", "", "", {}});
  std::vector<std::string> log;
  DatasetCache cache = f.make_cache(false, &log);
  LocalDataset local = cache.ensure(e);
  EXPECT_FALSE(local.in_place);
  EXPECT_EQ(local.root, f.cache / "datasets/toy/1");
  EXPECT_EQ(local.source, server.url() + "/");
  EXPECT_EQ(local.fetched_bytes, 100003u);
  EXPECT_EQ(f.env.read_file(local.root / "dir/b c.bin"), "bee");
  EXPECT_FALSE(f.env.exists(local.root / "a.bin.partial"));
  std::vector<testing::ServedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].path, "/dir/b%20c.bin");
  // Cached now: no more requests, no hashing.
  LocalDataset again = cache.ensure(e);
  EXPECT_EQ(again.hashed_bytes, 0u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(DataCache, ResumesAPartialDownloadWithARangeRequest) {
  Fixture f;
  std::string content = big(200000);
  DatasetEntry e = f.dataset({{"a.bin", content}}, {});
  testing::RangeFileServer server(f.source);
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  DatasetCache cache = f.make_cache();
  fs::path dir = cache.dataset_dir(e);
  f.env.create_dirs(dir);
  f.env.write_file(dir / "a.bin.partial", content.substr(0, 123456));  // an interrupted earlier fetch
  LocalDataset local = cache.ensure(e);
  EXPECT_EQ(local.fetched_bytes, 200000u - 123456u);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].range, "bytes=123456-");
  EXPECT_EQ(server.requests()[0].body_bytes, 200000u - 123456u);  // only the rest crossed the wire
  EXPECT_EQ(f.env.read_file(dir / "a.bin"), content);
}

TEST(DataCache, DroppedConnectionKeepsThePartialFileAndTheNextFetchResumesIt) {
  Fixture f;
  std::string content = big(300000);
  DatasetEntry e = f.dataset({{"a.bin", content}}, {});
  DatasetCache cache = f.make_cache();
  fs::path dir = cache.dataset_dir(e);
  {
    testing::CutConnectionServer cut(content, 100000);
    e.sources = {DatasetSource{cut.url(), "", "", {}}};
    try {
      cache.ensure(e);
      FAIL() << "a cut transfer was accepted";
    } catch (const IoError& error) {
      EXPECT_NE(std::string(error.what()).find("the partial download is kept and resumed next time"), std::string::npos)
          << error.what();
    }
  }
  EXPECT_FALSE(f.env.exists(dir / "a.bin"));  // never under its name while incomplete
  EXPECT_EQ(f.env.file_size(dir / "a.bin.partial"), 100000u);
  testing::RangeFileServer server(f.source);
  e.sources = {DatasetSource{server.url(), "", "", {}}};
  LocalDataset local = cache.ensure(e);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].range, "bytes=100000-");
  EXPECT_EQ(local.fetched_bytes, 200000u);
  EXPECT_EQ(f.env.read_file(dir / "a.bin"), content);
}

TEST(DataCache, ServerIgnoringRangeRestartsTheFile) {
  Fixture f;
  std::string content = big(50000);
  DatasetEntry e = f.dataset({{"a.bin", content}}, {});
  testing::RangeFileServer server(f.source);
  server.set_ignore_range(true);
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  DatasetCache cache = f.make_cache();
  fs::path dir = cache.dataset_dir(e);
  f.env.create_dirs(dir);
  f.env.write_file(dir / "a.bin.partial", content.substr(0, 1000));
  cache.ensure(e);
  EXPECT_EQ(f.env.read_file(dir / "a.bin"), content);  // not the 1000 bytes twice
}

TEST(DataCache, HashMismatchIsRefusedAndNothingIsLeftUnderTheName) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "the right bytes"}}, {});
  testing::RangeFileServer server(f.source);
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  f.env.write_file(f.source / "a.bin", "the wrong bytes");  // same size, other content
  DatasetCache cache = f.make_cache();
  try {
    cache.ensure(e);
    FAIL() << "a mismatching download was accepted";
  } catch (const IoError& error) {
    std::string m = error.what();
    EXPECT_NE(m.find(server.url() + "/a.bin: SHA-256 mismatch: the catalog (<unknown>) expects " +
                     sha256_hex("the right bytes") + ", the file has " + sha256_hex("the wrong bytes") +
                     " (the download was deleted)"),
              std::string::npos)
        << m;
  }
  fs::path dir = cache.dataset_dir(e);
  EXPECT_FALSE(f.env.exists(dir / "a.bin"));
  EXPECT_FALSE(f.env.exists(dir / "a.bin.partial"));
  EXPECT_FALSE(cache.find_local(e).has_value());
}

TEST(DataCache, FallsBackToTheNextSource) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "payload"}}, {});
  testing::RangeFileServer server(f.source);
  e.sources.push_back(DatasetSource{server.url() + "/missing", "", "", {}});
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  LocalDataset local = f.make_cache().ensure(e);
  EXPECT_EQ(local.source, server.url());
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].status, 404);
}

TEST(DataCache, UnreachableAndMissingSourcesAreNamed) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "payload"}}, {"http://127.0.0.1:9/nothing"});
  try {
    f.make_cache().ensure(e);
    FAIL();
  } catch (const IoError& error) {
    std::string m = error.what();
    EXPECT_NE(m.find("missing 1 of 1 files in " + (f.cache / "datasets/toy/1").string() + ":\n  a.bin"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("cannot fetch 'http://127.0.0.1:9/nothing/a.bin': "), std::string::npos) << m;
  }
}

TEST(DataCache, OfflineUsesTheCacheOnlyAndSaysWhatIsMissing) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "payload"}}, {});
  testing::RangeFileServer server(f.source);
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  try {
    f.make_cache(true).ensure(e);
    FAIL();
  } catch (const IoError& error) {
    std::string m = error.what();
    EXPECT_NE(m.find("missing 1 of 1 files"), std::string::npos) << m;
    EXPECT_NE(m.find("offline (KILN_OFFLINE="), std::string::npos) << m;
    EXPECT_NE(m.find("not trying " + server.url()), std::string::npos) << m;
  }
  EXPECT_TRUE(server.requests().empty());
  f.make_cache(false).ensure(e);                        // online once
  LocalDataset offline = f.make_cache(true).ensure(e);  // then offline works from the cache
  EXPECT_EQ(offline.root, f.cache / "datasets/toy/1");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(DataCache, CorruptedCachedFileIsRemovedAndFetchedAgain) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "payload"}}, {});
  testing::RangeFileServer server(f.source);
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  DatasetCache cache = f.make_cache();
  fs::path cached = cache.ensure(e).root / "a.bin";
  f.env.write_file(cached, "PAYLOAD");  // bit rot, same size
  VerifyReport report = cache.verify(e);
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.files.size(), 1u);
  EXPECT_EQ(report.files[0].state, FileState::kWrongHash);
  EXPECT_EQ(report.files[0].sha256, sha256_hex("PAYLOAD"));
  cache.ensure(e);
  EXPECT_EQ(f.env.read_file(cached), "payload");
  EXPECT_TRUE(cache.verify(e).ok());
}

TEST(DataCache, NetworkSourceIsCopiedWhenLocalOnesAreIncomplete) {
  Fixture f;
  DatasetEntry e = f.dataset({{"a.bin", "payload"}, {"b.bin", "more"}}, {});
  testing::RangeFileServer server(f.source);
  fs::path partial_copy = f.tmp.path() / "partial_copy";
  f.env.create_dirs(partial_copy);
  f.env.write_file(partial_copy / "a.bin", "payload");  // b.bin is missing here
  e.sources.push_back(DatasetSource{partial_copy.string(), "", "", {}});
  e.sources.push_back(DatasetSource{server.url(), "", "", {}});
  LocalDataset local = f.make_cache().ensure(e);
  EXPECT_FALSE(local.in_place);
  EXPECT_EQ(local.source, server.url());
  EXPECT_EQ(server.requests().size(), 1u);  // a.bin was copied from the directory
}

}  // namespace
}  // namespace kiln::data
