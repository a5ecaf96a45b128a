#include "kiln/ui/http_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "kiln/error.h"

namespace kiln::ui {
namespace {

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

HttpClientResponse parse_response(const std::string& raw, const std::string& where) {
  HttpClientResponse response;
  std::size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0)
    throw IoError("malformed HTTP response from " + where);
  response.status = std::atoi(raw.c_str() + 9);
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    std::size_t end = raw.find("\r\n", line);
    std::string field = raw.substr(line, end - line);
    std::size_t colon = field.find(':');
    if (colon != std::string::npos) {
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t value = field.find_first_not_of(' ', colon + 1);
      response.headers[name] = value == std::string::npos ? "" : field.substr(value);
    }
    line = end + 2;
  }
  response.body = raw.substr(head_end + 4);
  return response;
}

}  // namespace

HttpClientResponse http_get(const std::string& host, int port, std::string_view target,
                            std::string_view extra_headers) {
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) throw IoError("cannot resolve " + where + ": " + ::gai_strerror(rc));
  Socket socket;
  int error = 0;
  for (addrinfo* ai = found; ai != nullptr && socket.fd < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      socket.fd = fd;
    } else {
      error = errno;
      if (fd >= 0) ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (socket.fd < 0) throw IoError("cannot connect to " + where + ": " + std::strerror(error));

  std::string request = "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + where + "\r\n" +
                        std::string(extra_headers) + "Connection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(socket.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot send to " + where + ": " + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char chunk[1 << 16];
  while (true) {
    ssize_t n = ::recv(socket.fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot read from " + where + ": " + std::strerror(errno));
    if (n == 0) break;
    raw.append(chunk, static_cast<std::size_t>(n));
  }
  return parse_response(raw, where);
}

}  // namespace kiln::ui
