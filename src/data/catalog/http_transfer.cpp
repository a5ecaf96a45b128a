#include "http_transfer.h"

#include <curl/curl.h>

#include <exception>
#include <memory>
#include <mutex>

#include "kiln/error.h"

namespace kiln::data::detail {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

struct WriteState {
  CURL* curl = nullptr;
  const std::function<void(long, std::string_view)>* on_body = nullptr;
  HttpOutcome* outcome = nullptr;
  std::exception_ptr failure;
};

struct ReadState {
  std::string_view remaining;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<WriteState*>(user);
  std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) {
    std::string& body = state->outcome->error_body;
    body.append(data, std::min(n, std::size_t{4096} - std::min(body.size(), std::size_t{4096})));
    return n;
  }
  try {
    (*state->on_body)(status, std::string_view(data, n));
    state->outcome->body_bytes += n;
  } catch (...) {
    state->failure = std::current_exception();
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  return n;
}

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<ReadState*>(user);
  std::size_t n = std::min(size * count, state->remaining.size());
  state->remaining.copy(buffer, n);
  state->remaining.remove_prefix(n);
  return n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

HttpOutcome http_perform(const HttpTransfer& transfer,
                         const std::function<void(long status, std::string_view bytes)>& on_body) {
  global_init();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw IoError("cannot start an HTTP transfer for '" + transfer.url + "': curl_easy_init failed");
  HttpOutcome outcome;
  WriteState write{curl.get(), &on_body, &outcome, nullptr};
  ReadState read{transfer.body};
  curl_slist* list = nullptr;
  for (const auto& h : transfer.headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, transfer.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &write);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, transfer.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // Stalled, not slow: a big file on a slow link must still finish.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "kiln-data");
  // Content-Length of a curl-decoded body would not match the file's size;
  // datasets are fetched byte for byte.
  curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  if (transfer.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (transfer.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &read);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(transfer.body.size()));
  } else if (transfer.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, transfer.method.c_str());
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode code = curl_easy_perform(c);
  if (write.failure) std::rethrow_exception(write.failure);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &outcome.status);
  if (code != CURLE_OK) {
    // The status stays when a response began (a connection dropped mid-body),
    // so the caller can tell a cut transfer from a host it never reached.
    outcome.error = error[0] ? error : curl_easy_strerror(code);
  }
  return outcome;
}

}  // namespace kiln::data::detail
