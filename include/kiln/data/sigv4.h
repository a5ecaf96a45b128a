// AWS Signature Version 4 for S3 requests (header-based), with the
// HMAC-SHA256 it is built from.
//
// Implements the algorithm of the AWS documentation ("Authenticating
// Requests: Using the Authorization Header", sig-v4-header-based-auth):
// canonical request, string to sign, signing key derived from the secret,
// date, region and service, and the Authorization header. Tested against the
// documentation's example signatures (tests/data_catalog/sigv4_test.cpp);
// the fetch tests run against a real S3-compatible server (s3rver).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/track/sha256.h"

namespace kiln::data {

// HMAC-SHA256 (RFC 2104 with SHA-256; RFC 4231 has the test vectors).
Sha256::Digest hmac_sha256(std::string_view key, std::string_view message);

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; sent as x-amz-security-token

  bool empty() const { return access_key_id.empty(); }
};

struct SigV4Request {
  std::string method = "GET";
  // The path exactly as sent, each segment URI-encoded (uri_encode), "/" at least.
  std::string canonical_uri = "/";
  // The query exactly as sent, already canonical: parameters sorted by name,
  // names and values URI-encoded, "name=value" joined by '&' ("" for none).
  std::string canonical_query;
  // The headers to sign (host and the x-amz-* ones at least); any case,
  // values trimmed when signed.
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256;
};

struct SigV4Scope {
  std::string amz_date;  // "20130524T000000Z"; the scope's date is its first 8 characters
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // 64 hex digits
  std::string authorization;  // the Authorization header's value
};

SigV4Signature sign_sigv4(const SigV4Request& request, const SigV4Scope& scope, const AwsCredentials& credentials);

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - . _ ~ kept,
// everything else %XX (uppercase); '/' kept unless `encode_slash`.
std::string uri_encode(std::string_view text, bool encode_slash);

// "20130524T000000Z" (UTC), the x-amz-date format.
std::string amz_date(std::chrono::system_clock::time_point when);

}  // namespace kiln::data
