// SigV4 against the AWS documentation's published examples
// (AmazonS3/latest/API/sig-v4-header-based-auth.html, "Examples: Signature
// Calculations"), and HMAC-SHA256 against RFC 4231.
#include "kiln/data/sigv4.h"

#include <gtest/gtest.h>

#include "kiln/data/s3.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

const AwsCredentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const std::string kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SigV4Scope kScope{"20130524T000000Z", "us-east-1", "s3"};

TEST(SigV4, HmacSha256Rfc4231) {
  // Test case 1 and 2 of RFC 4231.
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(SigV4, AwsExampleGetObject) {
  SigV4Request request{"GET",
                       "/test.txt",
                       "",
                       {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"Range", "bytes=0-9"},
                        {"x-amz-content-sha256", kEmptySha},
                        {"x-amz-date", "20130524T000000Z"}},
                       kEmptySha};
  SigV4Signature s = sign_sigv4(request, kScope, kExampleCredentials);
  EXPECT_EQ(
      s.canonical_request,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:" + kEmptySha +
          "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" + kEmptySha);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsExamplePutObject) {
  std::string body = "Welcome to Amazon S3.";
  std::string body_sha = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  ASSERT_EQ(sha256_hex(body), body_sha);
  SigV4Request request{"PUT",
                       "/" + uri_encode("test$file.text", false),
                       "",
                       {{"Host", "examplebucket.s3.amazonaws.com"},
                        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"x-amz-date", "20130524T000000Z"},
                        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                        {"x-amz-content-sha256", body_sha}},
                       body_sha};
  EXPECT_EQ(sign_sigv4(request, kScope, kExampleCredentials).signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, AwsExampleGetBucketLifecycleAndListObjects) {
  auto headers = [&] {
    return std::vector<std::pair<std::string, std::string>>{{"Host", "examplebucket.s3.amazonaws.com"},
                                                            {"x-amz-date", "20130524T000000Z"},
                                                            {"x-amz-content-sha256", kEmptySha}};
  };
  EXPECT_EQ(
      sign_sigv4(SigV4Request{"GET", "/", "lifecycle=", headers(), kEmptySha}, kScope, kExampleCredentials).signature,
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  EXPECT_EQ(
      sign_sigv4(SigV4Request{"GET", "/", "max-keys=2&prefix=J", headers(), kEmptySha}, kScope, kExampleCredentials)
          .signature,
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, UriEncodingAndDates) {
  EXPECT_EQ(uri_encode("a b/c~d$e+f", false), "a%20b/c~d%24e%2Bf");
  EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(amz_date(std::chrono::system_clock::from_time_t(1369353600)), "20130524T000000Z");
}

TEST(S3Config, CredentialsFileProfilesAndUrls) {
  std::string file =
      "[default]\naws_access_key_id = AK1\naws_secret_access_key=SK1\n\n[other]\n# a comment\n"
      "aws_access_key_id=AK2\naws_secret_access_key = SK2\naws_session_token = TOKEN\n";
  AwsCredentials d = parse_aws_credentials_file(file, "default");
  EXPECT_EQ(d.access_key_id, "AK1");
  EXPECT_EQ(d.secret_access_key, "SK1");
  AwsCredentials o = parse_aws_credentials_file(file, "other");
  EXPECT_EQ(o.access_key_id, "AK2");
  EXPECT_EQ(o.session_token, "TOKEN");
  EXPECT_TRUE(parse_aws_credentials_file(file, "missing").empty());

  S3Location loc = parse_s3_url("s3://bucket/some/prefix");
  EXPECT_EQ(loc.bucket, "bucket");
  EXPECT_EQ(loc.key, "some/prefix");
  EXPECT_THROW(parse_s3_url("s3:///x"), UsageError);

  auto now = std::chrono::system_clock::from_time_t(1369353600);
  S3Config aws{"", "eu-west-1", kExampleCredentials};
  S3Request r = make_s3_request(aws, "GET", {"bucket", "a b.txt"}, kEmptySha, now);
  EXPECT_EQ(r.url, "https://bucket.s3.eu-west-1.amazonaws.com/a%20b.txt");
  S3Config local{"http://127.0.0.1:4568", "us-east-1", kExampleCredentials};
  r = make_s3_request(local, "GET", {"bucket", "dir/x"}, kEmptySha, now);
  EXPECT_EQ(r.url, "http://127.0.0.1:4568/bucket/dir/x");  // path-style for custom endpoints
  bool signed_request = false;
  for (const auto& h : r.headers) signed_request = signed_request || h.starts_with("Authorization: AWS4-HMAC-SHA256 ");
  EXPECT_TRUE(signed_request);
}

}  // namespace
}  // namespace kiln::data
