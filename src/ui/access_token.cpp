#include "kiln/ui/access_token.h"

#include <arpa/inet.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "kiln/error.h"

namespace kiln::ui {
namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret (every generated token has 32 digits).
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// "host", "host:port", "[v6]" or "[v6]:port" -> the host part.
std::string_view host_of_authority(std::string_view authority) {
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

std::string generate_access_token() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(std::string("cannot generate an access token: getrandom: ") + std::strerror(errno));
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  return token;
}

bool is_loopback_host(std::string_view host) {
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  std::string text(host);
  return ::inet_pton(AF_INET, text.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool request_has_token(const HttpRequest& request, std::string_view token) {
  if (auto query = request.query_param("token"); query && constant_time_equal(*query, token)) return true;
  const std::string* authorization = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return authorization != nullptr && authorization->starts_with(kBearer) &&
         constant_time_equal(std::string_view(*authorization).substr(kBearer.size()), token);
}

bool host_header_is_loopback(const HttpRequest& request) {
  const std::string* host = request.header("host");
  // HTTP/1.0 clients may omit Host; browsers always send it.
  if (host == nullptr) return true;
  return is_loopback_host(host_of_authority(*host));
}

}  // namespace kiln::ui
