#include "kiln/ui/http_message.h"

#include <gtest/gtest.h>

namespace kiln::ui {
namespace {

TEST(HttpMessage, ParsesARequestHead) {
  HttpRequest r = parse_request_head(
      "GET /api/runs?where=metrics.acc%20%3E%200.9&limit=5 HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n"
      "Authorization:  Bearer abc \r\n\r\n");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/runs");
  EXPECT_EQ(r.query, "where=metrics.acc%20%3E%200.9&limit=5");
  EXPECT_EQ(*r.query_param("where"), "metrics.acc > 0.9");
  EXPECT_EQ(*r.query_param("limit"), "5");
  EXPECT_FALSE(r.query_param("sort"));
  ASSERT_NE(r.header("AUTHORIZATION"), nullptr);
  EXPECT_EQ(*r.header("authorization"), "Bearer abc");
}

TEST(HttpMessage, RejectsMalformedHeads) {
  for (const char* head :
       {"GET /\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n", "G(T / HTTP/1.1\r\n\r\n"})
    EXPECT_THROW(parse_request_head(head), HttpParseError) << head;
}

TEST(HttpMessage, UrlDecode) {
  EXPECT_EQ(*url_decode("val%2Facc"), "val/acc");
  EXPECT_EQ(*url_decode("a+b"), "a+b");
  EXPECT_EQ(*url_decode("a+b", true), "a b");
  EXPECT_FALSE(url_decode("%4"));
  EXPECT_FALSE(url_decode("%zz"));
  EXPECT_FALSE(url_decode("abc%"));
}

TEST(HttpMessage, SplitPathKeepsEncodedSlashesInOneSegment) {
  EXPECT_EQ(*split_path("/api/runs/r1/metrics/val%2Facc"),
            (std::vector<std::string>{"api", "runs", "r1", "metrics", "val/acc"}));
  EXPECT_EQ(*split_path("/api/runs/"), (std::vector<std::string>{"api", "runs"}));
  EXPECT_TRUE(split_path("/")->empty());
  EXPECT_FALSE(split_path("/api/%g0"));
}

TEST(HttpMessage, ErrorsAreJson) {
  HttpResponse r = HttpResponse::json_error(404, "no run \"x\"");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"no run \"x\""})");
  std::string head = response_head(r, r.body.size());
  EXPECT_TRUE(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_NE(head.find("Content-Length: " + std::to_string(r.body.size()) + "\r\n"), std::string::npos);
  EXPECT_TRUE(head.ends_with("Connection: close\r\n\r\n"));
}

}  // namespace
}  // namespace kiln::ui
