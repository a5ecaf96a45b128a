#include "kiln/ui/http_message.h"

#include <algorithm>
#include <cctype>

#include "kiln/track/json.h"

namespace kiln::ui {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_token_char(char c) {
  // RFC 9110 tchar: what methods and header names are made of.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? nullptr : &it->second;
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    std::size_t eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    // A malformed value reads as absent rather than as a half-decoded one.
    return url_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

HttpResponse HttpResponse::json_error(int status, std::string_view message) {
  auto body = track::JsonValue::object();
  body.set("error", track::JsonValue::string(std::string(message)));
  return json(track::to_json(body), status);
}

HttpResponse HttpResponse::json(std::string body, int status) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpRequest parse_request_head(std::string_view head) {
  if (head.size() > kMaxRequestHeadBytes) throw HttpParseError("request head too large");
  HttpRequest request;
  std::size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) throw HttpParseError("request line does not end with CRLF");
  std::string_view line = head.substr(0, line_end);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    throw HttpParseError("malformed request line");
  request.method = std::string(line.substr(0, sp1));
  request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view version = line.substr(sp2 + 1);
  if (request.method.empty() || !std::all_of(request.method.begin(), request.method.end(), is_token_char))
    throw HttpParseError("malformed method");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") throw HttpParseError("unsupported HTTP version");
  if (request.target.empty() || request.target[0] != '/') throw HttpParseError("request target must start with '/'");
  std::size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  // Fragments are never sent by browsers; one here would confuse routing.
  if (request.target.find('#') != std::string::npos) throw HttpParseError("request target contains '#'");

  std::string_view rest = head.substr(line_end + 2);
  while (true) {
    std::size_t end = rest.find("\r\n");
    if (end == std::string_view::npos) throw HttpParseError("header block does not end with a blank line");
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    if (field.empty()) break;
    std::size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) throw HttpParseError("malformed header line");
    std::string_view name = field.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) throw HttpParseError("malformed header name");
    request.headers[lower(name)] = std::string(trim(field.substr(colon + 1)));
  }
  return request;
}

std::optional<std::string> url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex_digit(text[i + 1]);
      int lo = hex_digit(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    auto segment = url_decode(path.substr(0, slash));
    if (!segment) return std::nullopt;
    segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  // "/" and "/api/runs/" end with an empty segment that names nothing.
  if (!segments.empty() && segments.back().empty()) segments.pop_back();
  return segments;
}

std::string_view http_status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string response_head(const HttpResponse& response, std::size_t content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " ";
  head += http_status_text(response.status);
  head += "\r\nContent-Type: " + response.content_type;
  head += "\r\nContent-Length: " + std::to_string(content_length);
  // The page and its data are one origin's business: no framing by other
  // sites, no MIME sniffing of downloads.
  head += "\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY";
  for (const auto& [name, value] : response.headers) head += "\r\n" + name + ": " + value;
  head += "\r\nConnection: close\r\n\r\n";
  return head;
}

}  // namespace kiln::ui
