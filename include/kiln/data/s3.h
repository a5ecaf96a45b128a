// S3 and S3-compatible stores (MinIO, Ceph RGW, s3rver, R2, ...) over
// HTTP(S), signed with SigV4 (sigv4.h).
//
// Configuration, first found wins:
//   endpoint     the catalog source's `endpoint`, $AWS_ENDPOINT_URL_S3,
//                $AWS_ENDPOINT_URL; else AWS itself (https://s3.<region>.amazonaws.com)
//   region       the source's `region`, $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1
//   credentials  $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY (+ $AWS_SESSION_TOKEN),
//                else the profile $AWS_PROFILE (default "default") of
//                $AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials);
//                none at all: unsigned requests (public buckets)
// Addressing: a custom endpoint gets path-style URLs (<endpoint>/<bucket>/<key>),
// which every S3-compatible store serves; AWS gets virtual-hosted ones
// (https://<bucket>.s3.<region>.amazonaws.com/<key>), except for bucket
// names with dots, which TLS certificates do not cover.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/data/sigv4.h"

namespace kiln::data {

struct S3Location {
  std::string bucket;
  std::string key;  // no leading '/'; may be empty (a bucket or a prefix)
};

// "s3://bucket/some/key" -> {bucket, "some/key"}. Throws kiln::UsageError
// when `url` is not an s3:// URL with a bucket.
S3Location parse_s3_url(std::string_view url);

struct S3Config {
  std::string endpoint;  // "" = AWS; else "http(s)://host[:port][/base]"
  std::string region = "us-east-1";
  AwsCredentials credentials;  // empty: unsigned requests
};

// The configuration from the environment and the credentials file, with a
// catalog source's endpoint and region (when not empty) taking precedence.
S3Config s3_config_from_environment(const std::string& endpoint, const std::string& region);

// The [profile] of an AWS shared credentials file's text
// (aws_access_key_id, aws_secret_access_key, aws_session_token); empty when
// the profile is absent.
AwsCredentials parse_aws_credentials_file(std::string_view text, const std::string& profile);

// A request ready for libcurl: the URL and the headers (Host is libcurl's;
// x-amz-date, x-amz-content-sha256, Authorization and the session token are
// here).
struct S3Request {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
};

// Signs `method` on `location` at time `now`; `payload_sha256` is the hex
// SHA-256 of the body (sha256_hex("") for GET). `canonical_query` is sent
// as the URL's query and must already be canonical (see SigV4Request).
S3Request make_s3_request(const S3Config& config, const std::string& method, const S3Location& location,
                          const std::string& payload_sha256, std::chrono::system_clock::time_point now,
                          const std::string& canonical_query = "");

// PUT `body` as the object at `location`. Throws kiln::IoError naming the
// URL, the status and S3's error code (NoSuchBucket, SignatureDoesNotMatch, ...).
void s3_put_object(const S3Config& config, const S3Location& location, std::string_view body);

struct S3Object {
  std::string key;
  std::uint64_t size = 0;
};

// Every object whose key starts with `prefix.key` (ListObjectsV2, all
// pages), in S3's order (by key). Throws kiln::IoError naming the prefix.
std::vector<S3Object> s3_list_objects(const S3Config& config, const S3Location& prefix);

// "<Code>: <Message>" from an S3 XML error body, or the body's start.
std::string s3_error_summary(std::string_view body);

}  // namespace kiln::data
