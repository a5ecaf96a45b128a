// One HTTP(S) request through libcurl, the body streamed to a callback.
// Internal to kiln_data_catalog: the fetchers (http and s3) are its users.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::data::detail {

struct HttpTransfer {
  std::string method = "GET";  // GET, HEAD or PUT
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // PUT only
  bool follow_redirects = true;
};

struct HttpOutcome {
  long status = 0;               // 0 when no response came (then `error` says why)
  std::string error;             // libcurl's message for a transport failure, also after a response began
  std::string error_body;        // the first 4 KiB of the body of a status >= 300
  std::uint64_t body_bytes = 0;  // bytes given to `on_body`
};

// Performs the request. `on_body(status, bytes)` gets the body of a 2xx
// response in chunks (status first known then, so a 200 to a Range request
// can restart the file); an exception it throws aborts the transfer and is
// rethrown. A stalled transfer (under 1 byte/s for 60 s) or an unreachable
// host ends with status 0 and `error` set, never hangs.
HttpOutcome http_perform(const HttpTransfer& transfer,
                         const std::function<void(long status, std::string_view bytes)>& on_body);

}  // namespace kiln::data::detail
