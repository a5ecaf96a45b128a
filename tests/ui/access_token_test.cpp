#include "kiln/ui/access_token.h"

#include <gtest/gtest.h>

namespace kiln::ui {
namespace {

HttpRequest request(const std::string& target, const std::string& headers = "") {
  return parse_request_head("GET " + target + " HTTP/1.1\r\n" + headers + "\r\n");
}

TEST(AccessToken, GeneratedTokensAre128RandomBits) {
  std::string a = generate_access_token(), b = generate_access_token();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(AccessToken, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"})
    EXPECT_TRUE(is_loopback_host(host)) << host;
  for (const char* host : {"0.0.0.0", "::", "192.168.1.10", "example.com", "128.0.0.1", "localhost.evil.com", ""})
    EXPECT_FALSE(is_loopback_host(host)) << host;
}

TEST(AccessToken, TokenInQueryOrBearerHeader) {
  EXPECT_TRUE(request_has_token(request("/api/runs?token=s3cret"), "s3cret"));
  EXPECT_TRUE(request_has_token(request("/api/runs?a=1&token=s3cret"), "s3cret"));
  EXPECT_TRUE(request_has_token(request("/api/runs", "Authorization: Bearer s3cret\r\n"), "s3cret"));
  EXPECT_FALSE(request_has_token(request("/api/runs"), "s3cret"));
  EXPECT_FALSE(request_has_token(request("/api/runs?token=s3cre"), "s3cret"));
  EXPECT_FALSE(request_has_token(request("/api/runs?token=s3cretX"), "s3cret"));
  EXPECT_FALSE(request_has_token(request("/api/runs", "Authorization: Basic s3cret\r\n"), "s3cret"));
  EXPECT_FALSE(request_has_token(request("/api/runs", "Authorization: Bearer wrong\r\n"), "s3cret"));
}

TEST(AccessToken, HostHeaderGuardsAgainstDnsRebinding) {
  EXPECT_TRUE(host_header_is_loopback(request("/", "Host: 127.0.0.1:8765\r\n")));
  EXPECT_TRUE(host_header_is_loopback(request("/", "Host: localhost:8765\r\n")));
  EXPECT_TRUE(host_header_is_loopback(request("/", "Host: [::1]:8765\r\n")));
  EXPECT_FALSE(host_header_is_loopback(request("/", "Host: attacker.example:8765\r\n")));
}

}  // namespace
}  // namespace kiln::ui
