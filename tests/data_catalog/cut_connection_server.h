// A one-shot HTTP server on 127.0.0.1 that promises a whole body and hangs
// up half-way, as a dropped connection does: what a resumed download is
// tested against. Serves exactly one request, then its thread ends.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace kiln::testing {

class CutConnectionServer {
 public:
  // Answers one GET with `content`'s length as Content-Length but only its
  // first `sent` bytes.
  CutConnectionServer(std::string content, std::size_t sent) : content_(std::move(content)), sent_(sent) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve_one(); });
  }
  ~CutConnectionServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve_one() {
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(content_.size()) +
                       "\r\nContent-Type: application/octet-stream\r\n\r\n";
    std::string out = head + content_.substr(0, sent_);
    ::send(client, out.data(), out.size(), MSG_NOSIGNAL);
    ::close(client);  // the rest never comes
  }

  std::string content_;
  std::size_t sent_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace kiln::testing
