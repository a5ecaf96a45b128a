#include "kiln/data/fetch.h"

#include <memory>

#include "http_transfer.h"
#include "kiln/data/s3.h"
#include "kiln/data/sigv4.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"

namespace kiln::data {
namespace fs = std::filesystem;
namespace {

std::string join_url(std::string base, const std::string& relative) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + relative;
}

FetchResult copy_local(const DatasetSource& source, const std::string& relative, const fs::path& partial, Env& env) {
  fs::path from = local_source_dir(source) / relative;
  if (!env.exists(from)) throw FetchError("'" + from.string() + "' does not exist");
  // Local copies restart from the first byte: there is no network to save.
  std::unique_ptr<SequentialFile> in = env.new_sequential_file(from);
  std::unique_ptr<WritableFile> out = env.new_writable_file(partial);
  std::string buffer(1 << 20, '\0');
  FetchResult result;
  while (std::size_t n = in->read(buffer.data(), buffer.size())) {
    out->append(std::string_view(buffer.data(), n));
    result.received += n;
  }
  out->sync();
  out->close();
  return result;
}

// GET with `Range: bytes=<have>-` when part of the file is there already.
// `base_headers` go with every request (S3's signature; Range is not signed).
FetchResult fetch_http(const std::string& url, const std::string& shown_url,
                       const std::vector<std::string>& base_headers, const fs::path& partial,
                       std::uint64_t expected_size, Env& env, bool follow_redirects) {
  std::vector<std::string> headers = base_headers;
  std::uint64_t have = 0;
  if (std::optional<FileInfo> info = env.stat(partial)) have = info->size;
  if (have > expected_size) have = 0;  // not a prefix of this file: start over
  FetchResult result;
  if (have == expected_size && have > 0) {
    result.resumed_from = have;
    return result;  // complete already; the caller verifies it
  }
  if (have > 0) headers.push_back("Range: bytes=" + std::to_string(have) + "-");
  std::unique_ptr<WritableFile> out;
  auto on_body = [&](long status, std::string_view bytes) {
    if (!out) {
      bool resumed = have > 0 && status == 206;
      // 200 to a Range request: the server sends the whole file.
      out = resumed ? env.new_appendable_file(partial) : env.new_writable_file(partial);
      result.resumed_from = resumed ? have : 0;
    }
    out->append(bytes);
    result.received += bytes.size();
  };
  detail::HttpOutcome outcome =
      detail::http_perform(detail::HttpTransfer{"GET", url, headers, "", follow_redirects}, on_body);
  if (out) {
    out->sync();
    out->close();
  }
  if (outcome.status == 0) throw FetchError("cannot fetch '" + shown_url + "': " + outcome.error);
  if (outcome.status == 416 && have > 0) {
    // The partial file is not a prefix the server agrees with; start over.
    env.remove_file(partial);
    return fetch_http(url, shown_url, base_headers, partial, expected_size, env, follow_redirects);
  }
  if (outcome.status >= 300) {
    std::string detail = outcome.error_body.find("<Error>") != std::string::npos
                             ? " (" + s3_error_summary(outcome.error_body) + ")"
                             : "";
    throw FetchError("cannot fetch '" + shown_url + "': HTTP " + std::to_string(outcome.status) + detail);
  }
  if (!outcome.error.empty())
    throw FetchError("cannot fetch '" + shown_url + "': " + outcome.error + " after " +
                     std::to_string(result.received) + " bytes (the partial download is kept and resumed next time)");
  if (!out) env.write_file(partial, "");  // an empty file
  return result;
}

}  // namespace

bool is_local_source(const DatasetSource& source) {
  return source.url.starts_with("file://") || source.url.find("://") == std::string::npos;
}

bool is_network_source(const DatasetSource& source) { return !is_local_source(source); }

fs::path local_source_dir(const DatasetSource& source) {
  return source.url.starts_with("file://") ? fs::path(source.url.substr(7)) : fs::path(source.url);
}

std::string source_file_url(const DatasetSource& source, const std::string& relative) {
  if (is_local_source(source)) return (local_source_dir(source) / relative).string();
  return join_url(source.url, relative);
}

FetchResult fetch_file(const DatasetSource& source, const std::string& relative, const fs::path& partial,
                       std::uint64_t expected_size, Env& env) {
  if (is_local_source(source)) return copy_local(source, relative, partial, env);
  std::string shown = source_file_url(source, relative);
  if (source.url.starts_with("s3://")) {
    S3Location location = parse_s3_url(shown);
    S3Config config = s3_config_from_environment(source.endpoint, source.region);
    S3Request request = make_s3_request(config, "GET", location, sha256_hex(""), env.now());
    return fetch_http(request.url, shown, request.headers, partial, expected_size, env, false);
  }
  std::string url = join_url(source.url, uri_encode(relative, false));
  return fetch_http(url, shown, {}, partial, expected_size, env, true);
}

}  // namespace kiln::data
