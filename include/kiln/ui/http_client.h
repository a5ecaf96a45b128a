// A minimal blocking HTTP/1.1 GET client for kiln's own tests, benchmarks
// and health checks against the dashboard server. Not a general client: no
// TLS, no redirects, no chunked encoding (the server never sends it).
//
// Thread safety: reentrant.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace kiln::ui {

struct HttpClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Connects to host:port, sends `GET target` with `extra_headers` (each
// "Name: value\r\n"), reads the response until the server closes. Throws
// kiln::IoError when the connection or the read fails.
HttpClientResponse http_get(const std::string& host, int port, std::string_view target,
                            std::string_view extra_headers = {});

}  // namespace kiln::ui
