// S3 fetches against a real S3-compatible server: s3rver from the npm
// registry (tests/data_catalog/s3rver), started on a free 127.0.0.1 port for
// each test and stopped after it. s3rver checks the SigV4 Authorization
// header's form, the access key and the request time (its own V4 signature
// check is unimplemented, lib/middleware/authentication.js), so the
// signatures themselves are pinned by the AWS vectors in sigv4_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "kiln/data/dataset_add.h"
#include "kiln/data/dataset_cache.h"
#include "kiln/data/s3.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"
#include "support/s3rver.h"
#include "support/temp_dir.h"

namespace kiln::data {
namespace {
namespace fs = std::filesystem;

// Sets environment variables for one test and puts the old values back.
class ScopedEnv {
 public:
  void set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

constexpr const char* kBucket = "kiln-test";

class S3Fetch : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef KILN_S3RVER_JS
    GTEST_SKIP()
        << "s3rver is not installed (needs node and npm at configure time; see tests/data_catalog/s3rver.cmake)";
#else
    server_ = std::make_unique<testing::S3rver>(KILN_NODE, KILN_S3RVER_JS, tmp_.path() / "s3", kBucket);
    endpoint_ = server_->endpoint();
    // s3rver's built-in account.
    vars_.set("AWS_ACCESS_KEY_ID", "S3RVER");
    vars_.set("AWS_SECRET_ACCESS_KEY", "S3RVER");
    vars_.set("AWS_REGION", "us-east-1");
    vars_.set("AWS_ENDPOINT_URL", "");
    vars_.set("AWS_ENDPOINT_URL_S3", "");
#endif
  }

  S3Config config() const { return S3Config{endpoint_, "us-east-1", {"S3RVER", "S3RVER", ""}}; }

  // Uploads `files` under toy/ and returns the entry that names them.
  DatasetEntry upload(const std::vector<std::pair<std::string, std::string>>& files, const std::string& endpoint) {
    DatasetEntry e;
    e.name = "toy";
    e.version = 1;
    e.catalog = "test.yaml";
    for (const auto& [path, content] : files) {
      s3_put_object(config(), S3Location{kBucket, "toy/" + path}, content);
      e.files.push_back(CatalogFile{path, content.size(), sha256_hex(content)});
    }
    e.sources.push_back(DatasetSource{std::string("s3://") + kBucket + "/toy", endpoint, "", {}});
    return e;
  }

  DatasetCache cache() { return DatasetCache(CacheOptions{tmp_.path() / "cache", false, nullptr}); }

  testing::TempDir tmp_{"kiln_s3_test"};
  Env& env_ = Env::Default();
  ScopedEnv vars_;
  std::unique_ptr<testing::S3rver> server_;
  std::string endpoint_;
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return s;
}

TEST_F(S3Fetch, FetchesSignedObjectsFromTheCatalogEndpoint) {
  std::string big = pattern(300000);
  DatasetEntry e = upload({{"a.bin", big}, {"dir/b c.txt", "bee"}}, endpoint_);
  LocalDataset local = cache().ensure(e);
  EXPECT_FALSE(local.in_place);
  EXPECT_EQ(local.fetched_bytes, 300003u);
  EXPECT_EQ(env_.read_file(local.root / "a.bin"), big);
  EXPECT_EQ(env_.read_file(local.root / "dir/b c.txt"), "bee");
}

TEST_F(S3Fetch, EndpointFromTheEnvironment) {
  DatasetEntry e = upload({{"a.bin", "payload"}}, "");
  vars_.set("AWS_ENDPOINT_URL", endpoint_);
  EXPECT_EQ(env_.read_file(cache().ensure(e).root / "a.bin"), "payload");
}

TEST_F(S3Fetch, ResumesWithARangeRequest) {
  std::string big = pattern(200000);
  DatasetEntry e = upload({{"a.bin", big}}, endpoint_);
  DatasetCache c = cache();
  fs::path dir = c.dataset_dir(e);
  env_.create_dirs(dir);
  env_.write_file(dir / "a.bin.partial", big.substr(0, 150000));
  LocalDataset local = c.ensure(e);
  EXPECT_EQ(local.fetched_bytes, 50000u);  // s3rver sent only the rest
  EXPECT_EQ(env_.read_file(dir / "a.bin"), big);
}

TEST_F(S3Fetch, UnknownAccessKeyIsRefusedByTheServer) {
  DatasetEntry e = upload({{"a.bin", "payload"}}, endpoint_);
  vars_.set("AWS_ACCESS_KEY_ID", "NOT-A-KEY");
  try {
    cache().ensure(e);
    FAIL() << "a badly signed request was served";
  } catch (const IoError& error) {
    std::string m = error.what();
    EXPECT_NE(m.find("cannot fetch 's3://kiln-test/toy/a.bin': HTTP 403 (InvalidAccessKeyId"), std::string::npos) << m;
  }
  EXPECT_FALSE(env_.exists(cache().dataset_dir(e) / "a.bin"));
}

TEST_F(S3Fetch, CredentialsFromTheSharedFileProfile) {
  DatasetEntry e = upload({{"a.bin", "payload"}}, endpoint_);
  fs::path file = tmp_.path() / "credentials";
  env_.write_file(file,
                  "[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n[local]\n"
                  "aws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  vars_.set("AWS_SHARED_CREDENTIALS_FILE", file.string());
  vars_.set("AWS_PROFILE", "local");
  EXPECT_EQ(env_.read_file(cache().ensure(e).root / "a.bin"), "payload");
}

TEST_F(S3Fetch, AddListsAPrefixAndTheEntryFetches) {
  upload({{"a.bin", "alpha"}, {"dir/b.bin", "beta"}, {".hidden", "x"}}, endpoint_);
  s3_put_object(config(), S3Location{kBucket, "toy-other/c.bin"}, "not under toy/");
  std::vector<S3Object> listed = s3_list_objects(config(), S3Location{kBucket, "toy/"});
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].key, "toy/.hidden");
  EXPECT_EQ(listed[1].size, 5u);
  fs::path catalog = tmp_.path() / "catalog.yaml";
  DatasetCache c = cache();
  AddOptions o{.name = "listed", .from = std::string("s3://") + kBucket + "/toy/", .endpoint = endpoint_};
  AddResult r = add_dataset(o, Catalog(), catalog, c, env_);
  ASSERT_EQ(r.entry.files.size(), 2u);
  EXPECT_EQ(r.entry.files[0].path, "a.bin");
  EXPECT_EQ(r.entry.files[1].path, "dir/b.bin");
  EXPECT_EQ(r.entry.files[1].sha256, sha256_hex("beta"));
  EXPECT_EQ(r.entry.sources[0].url, "s3://kiln-test/toy");
  EXPECT_EQ(r.entry.sources[0].endpoint, endpoint_);
  EXPECT_EQ(env_.read_file(c.ensure(r.entry).root / "dir/b.bin"), "beta");
}

TEST_F(S3Fetch, MissingObjectAndBucketAreNamed) {
  DatasetEntry e = upload({{"a.bin", "payload"}}, endpoint_);
  e.files.push_back(CatalogFile{"absent.bin", 3, sha256_hex("abc")});
  try {
    cache().ensure(e);
    FAIL();
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot fetch 's3://kiln-test/toy/absent.bin': HTTP 404 (NoSuchKey"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(s3_put_object(config(), S3Location{"no-such-bucket", "x"}, "x"), IoError);
}

}  // namespace
}  // namespace kiln::data
