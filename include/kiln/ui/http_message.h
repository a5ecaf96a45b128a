// HTTP/1.1 requests and responses as the dashboard's server sees them: the
// parsed request head (the server reads GET and HEAD only, no bodies) and a
// response that is either a body in memory or a file streamed from disk.
//
// Parsing is strict and bounded: the head must end within
// kMaxRequestHeadBytes, the request line must be `METHOD SP TARGET SP
// HTTP/1.x`, header names are case-insensitive. Anything else is a
// HttpParseError (the server answers 400 and closes).
//
// Thread safety: plain data and pure functions.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/error.h"

namespace kiln::ui {

// A request head larger than this is refused (431), so a client cannot
// make a worker buffer without end.
inline constexpr std::size_t kMaxRequestHeadBytes = 64 * 1024;

class HttpParseError : public Error {
 public:
  using Error::Error;
};

struct HttpRequest {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // as sent: "/api/runs?limit=5"
  std::string path;    // the target before '?', still percent-encoded
  std::string query;   // the target after '?', still percent-encoded
  // Header names lower-cased; a repeated header keeps its last value.
  std::map<std::string, std::string> headers;

  // The header's value (name in any case), or nullptr.
  const std::string* header(std::string_view name) const;
  // The first `name=` parameter of the query string, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the body is this file's contents (streamed; `body` ignored).
  std::optional<std::filesystem::path> file;
  // Extra headers (Cache-Control, Content-Disposition, ...).
  std::vector<std::pair<std::string, std::string>> headers;

  // {"error": message} with `status` (400, 403, 404, ...).
  static HttpResponse json_error(int status, std::string_view message);
  static HttpResponse json(std::string body, int status = 200);
};

// Parses a request head: everything up to and including the blank line.
HttpRequest parse_request_head(std::string_view head);

// Percent-decoding; with `plus_is_space`, '+' decodes to ' ' (query strings,
// application/x-www-form-urlencoded). nullopt on a malformed escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space = false);

// The path split at '/' with each segment percent-decoded, so a metric key
// sent as "val%2Facc" stays one segment. nullopt on a malformed escape.
std::optional<std::vector<std::string>> split_path(std::string_view path);

// "OK", "Not Found", ... ("Unknown" for codes kiln never sends).
std::string_view http_status_text(int status);

// The status line and headers of `response` for a body of `content_length`
// bytes, ending with the blank line. The server always closes the
// connection after a response (no keep-alive), and says so.
std::string response_head(const HttpResponse& response, std::size_t content_length);

}  // namespace kiln::ui
