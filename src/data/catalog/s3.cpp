#include "kiln/data/s3.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "http_transfer.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"

namespace kiln::data {
namespace {

std::string env_or(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// "http://host:port/base" -> {"http://host:port", "host:port", "/base"}.
struct Endpoint {
  std::string origin, host, base;
};

Endpoint split_endpoint(const std::string& endpoint) {
  std::size_t host_start = endpoint.find("://") + 3;
  std::size_t path = endpoint.find('/', host_start);
  Endpoint out;
  out.origin = endpoint.substr(0, path);
  out.host = endpoint.substr(host_start, path == std::string::npos ? std::string::npos : path - host_start);
  out.base = path == std::string::npos ? "" : endpoint.substr(path);
  while (!out.base.empty() && out.base.back() == '/') out.base.pop_back();
  return out;
}

}  // namespace

S3Location parse_s3_url(std::string_view url) {
  if (!url.starts_with("s3://") || url.size() == 5 || url[5] == '/')
    throw UsageError("'" + std::string(url) + "' is not an S3 URL (expected s3://BUCKET/PREFIX)");
  std::string_view rest = url.substr(5);
  std::size_t slash = rest.find('/');
  S3Location out{std::string(rest.substr(0, slash)), ""};
  if (slash != std::string_view::npos) out.key = std::string(rest.substr(slash + 1));
  return out;
}

AwsCredentials parse_aws_credentials_file(std::string_view text, const std::string& profile) {
  AwsCredentials out;
  bool in_profile = false;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(std::string_view(line).substr(1, line.size() - 2)) == profile;
      continue;
    }
    std::size_t eq = line.find('=');
    if (!in_profile || eq == std::string::npos) continue;
    std::string key = trim(std::string_view(line).substr(0, eq)), value = trim(std::string_view(line).substr(eq + 1));
    if (key == "aws_access_key_id") out.access_key_id = value;
    if (key == "aws_secret_access_key") out.secret_access_key = value;
    if (key == "aws_session_token") out.session_token = value;
  }
  return out;
}

S3Config s3_config_from_environment(const std::string& endpoint, const std::string& region) {
  S3Config out;
  out.endpoint = !endpoint.empty() ? endpoint : env_or("AWS_ENDPOINT_URL_S3", env_or("AWS_ENDPOINT_URL"));
  out.region = !region.empty() ? region : env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
  out.credentials.access_key_id = env_or("AWS_ACCESS_KEY_ID");
  out.credentials.secret_access_key = env_or("AWS_SECRET_ACCESS_KEY");
  out.credentials.session_token = env_or("AWS_SESSION_TOKEN");
  if (out.credentials.empty()) {
    std::string file = env_or("AWS_SHARED_CREDENTIALS_FILE");
    if (file.empty() && std::getenv("HOME")) file = std::string(std::getenv("HOME")) + "/.aws/credentials";
    Env& env = Env::Default();
    if (!file.empty() && env.exists(file))
      out.credentials = parse_aws_credentials_file(env.read_file(file, 1u << 20), env_or("AWS_PROFILE", "default"));
  }
  return out;
}

S3Request make_s3_request(const S3Config& config, const std::string& method, const S3Location& location,
                          const std::string& payload_sha256, std::chrono::system_clock::time_point now,
                          const std::string& canonical_query) {
  // A bucket itself is "/bucket" path-style (no trailing slash), "/" virtual-hosted.
  std::string key_path = location.key.empty() && !config.endpoint.empty() ? "" : "/" + uri_encode(location.key, false);
  std::string url, host, canonical_uri;
  if (!config.endpoint.empty()) {
    Endpoint e = split_endpoint(config.endpoint);
    host = e.host;
    canonical_uri = e.base + "/" + uri_encode(location.bucket, true) + key_path;
    url = e.origin + canonical_uri;
  } else {
    bool virtual_hosted = location.bucket.find('.') == std::string::npos;
    std::string regional = "s3." + config.region + ".amazonaws.com";
    host = virtual_hosted ? location.bucket + "." + regional : regional;
    canonical_uri = virtual_hosted ? key_path : "/" + location.bucket + key_path;
    url = "https://" + host + canonical_uri;
  }
  if (!canonical_query.empty()) url += "?" + canonical_query;
  S3Request out{url, {}};
  std::string date = amz_date(now);
  out.headers.push_back("x-amz-date: " + date);
  out.headers.push_back("x-amz-content-sha256: " + payload_sha256);
  if (config.credentials.empty()) return out;
  SigV4Request request{method, canonical_uri, canonical_query, {}, payload_sha256};
  request.headers = {{"host", host}, {"x-amz-content-sha256", payload_sha256}, {"x-amz-date", date}};
  if (!config.credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", config.credentials.session_token);
    out.headers.push_back("x-amz-security-token: " + config.credentials.session_token);
  }
  SigV4Signature signature = sign_sigv4(request, SigV4Scope{date, config.region, "s3"}, config.credentials);
  out.headers.push_back("Authorization: " + signature.authorization);
  return out;
}

std::string s3_error_summary(std::string_view body) {
  auto tag = [&](const std::string& name) -> std::string {
    std::size_t b = body.find("<" + name + ">");
    std::size_t e = body.find("</" + name + ">");
    if (b == std::string_view::npos || e == std::string_view::npos || e < b) return "";
    b += name.size() + 2;
    return std::string(body.substr(b, e - b));
  };
  std::string code = tag("Code"), message = tag("Message");
  if (!code.empty()) return code + (message.empty() ? "" : ": " + message);
  return std::string(body.substr(0, 200));
}

void s3_put_object(const S3Config& config, const S3Location& location, std::string_view body) {
  S3Request request = make_s3_request(config, "PUT", location, sha256_hex(body), std::chrono::system_clock::now());
  detail::HttpTransfer transfer{"PUT", request.url, request.headers, std::string(body), false};
  detail::HttpOutcome outcome = detail::http_perform(transfer, [](long, std::string_view) {});
  if (outcome.status == 0 || (outcome.status < 300 && !outcome.error.empty()))
    throw IoError("cannot upload to '" + request.url + "': " + outcome.error);
  if (outcome.status >= 300)
    throw IoError("cannot upload to '" + request.url + "': HTTP " + std::to_string(outcome.status) + " (" +
                  s3_error_summary(outcome.error_body) + ")");
}

}  // namespace kiln::data

namespace kiln::data {
namespace {

// The text between <name> and </name> from `from` on, XML entities decoded;
// npos in `next` when absent.
std::string xml_tag(std::string_view xml, const std::string& name, std::size_t from, std::size_t* next = nullptr) {
  std::size_t b = xml.find("<" + name + ">", from);
  std::size_t e = b == std::string_view::npos ? b : xml.find("</" + name + ">", b);
  if (next) *next = e == std::string_view::npos ? e : e + name.size() + 3;
  if (e == std::string_view::npos) return "";
  std::string raw(xml.substr(b + name.size() + 2, e - b - name.size() - 2)), out;
  static const std::pair<const char*, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  for (std::size_t i = 0; i < raw.size(); ++i) {
    bool decoded = false;
    for (const auto& [entity, c] : kEntities) {
      if (raw.compare(i, std::strlen(entity), entity) == 0) {
        out += c;
        i += std::strlen(entity) - 1;
        decoded = true;
        break;
      }
    }
    if (!decoded) out += raw[i];
  }
  return out;
}

}  // namespace

std::vector<S3Object> s3_list_objects(const S3Config& config, const S3Location& prefix) {
  std::vector<S3Object> out;
  std::string token;
  for (;;) {
    // Parameters in name order: the canonical query is the query sent.
    std::string query = token.empty() ? "" : "continuation-token=" + uri_encode(token, true) + "&";
    query += "list-type=2&prefix=" + uri_encode(prefix.key, true);
    S3Request request = make_s3_request(config, "GET", S3Location{prefix.bucket, ""}, sha256_hex(""),
                                        std::chrono::system_clock::now(), query);
    std::string body;
    detail::HttpOutcome outcome =
        detail::http_perform(detail::HttpTransfer{"GET", request.url, request.headers, "", false},
                             [&](long, std::string_view bytes) { body.append(bytes); });
    std::string shown = "s3://" + prefix.bucket + "/" + prefix.key;
    if (outcome.status == 0 || !outcome.error.empty()) throw IoError("cannot list '" + shown + "': " + outcome.error);
    if (outcome.status >= 300)
      throw IoError("cannot list '" + shown + "': HTTP " + std::to_string(outcome.status) + " (" +
                    s3_error_summary(outcome.error_body) + ")");
    std::size_t at = 0;
    for (;;) {
      std::size_t end = 0;
      std::string contents = xml_tag(body, "Contents", at, &end);
      if (end == std::string::npos) break;
      std::string size = xml_tag(contents, "Size", 0);
      out.push_back(S3Object{xml_tag(contents, "Key", 0), size.empty() ? 0 : std::stoull(size)});
      at = end;
    }
    if (xml_tag(body, "IsTruncated", 0) != "true") break;
    token = xml_tag(body, "NextContinuationToken", 0);
    if (token.empty()) break;
  }
  return out;
}

}  // namespace kiln::data
