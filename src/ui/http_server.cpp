#include "kiln/ui/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::ui {
namespace {

// Connections accepted but not yet picked up by a worker beyond this are
// closed at once: under overload, fail fast rather than queue without end.
constexpr std::size_t kMaxQueuedConnections = 512;

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;  // the client left or timed out: nothing to tell anyone
    }
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

void set_timeouts(int fd, double seconds) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Reads until the blank line that ends the head. nullopt: the client went
// away or stalled; a head over the limit is returned as is (the caller says 431).
std::optional<std::string> read_head(int fd) {
  std::string buffer;
  char chunk[4096];
  while (buffer.find("\r\n\r\n") == std::string::npos) {
    if (buffer.size() > kMaxRequestHeadBytes) return buffer;
    ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  buffer.resize(buffer.find("\r\n\r\n") + 4);
  return buffer;
}

void send_response(int fd, const HttpResponse& response, bool head_only) {
  if (!response.file) {
    std::string head = response_head(response, response.body.size());
    if (!head_only) head += response.body;
    send_all(fd, head.data(), head.size());
    return;
  }
  int file = ::open(response.file->c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info {};
  if (file < 0 || ::fstat(file, &info) != 0) {
    if (file >= 0) ::close(file);
    auto error =
        HttpResponse::json_error(404, "cannot open '" + response.file->string() + "': " + std::strerror(errno));
    send_response(fd, error, head_only);
    return;
  }
  std::string head = response_head(response, static_cast<std::size_t>(info.st_size));
  bool ok = send_all(fd, head.data(), head.size());
  std::vector<char> chunk(1 << 16);
  while (ok && !head_only) {
    ssize_t got = ::read(file, chunk.data(), chunk.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    ok = send_all(fd, chunk.data(), static_cast<std::size_t>(got));
  }
  ::close(file);
}

void serve_connection(int fd, const HttpHandler& handler, double timeout) {
  set_timeouts(fd, timeout);
  std::optional<std::string> head = read_head(fd);
  if (!head) return;
  HttpResponse response;
  bool head_only = false;
  if (head->size() > kMaxRequestHeadBytes) {
    response =
        HttpResponse::json_error(431, "request head larger than " + std::to_string(kMaxRequestHeadBytes) + " bytes");
  } else {
    try {
      HttpRequest request = parse_request_head(*head);
      head_only = request.method == "HEAD";
      if (request.method != "GET" && !head_only) {
        response =
            HttpResponse::json_error(405, "method " + request.method + " not allowed; the dashboard is read-only");
        response.headers.emplace_back("Allow", "GET, HEAD");
      } else {
        response = handler(request);
      }
    } catch (const HttpParseError& e) {
      response = HttpResponse::json_error(400, std::string("bad request: ") + e.what());
    } catch (const std::exception& e) {
      response = HttpResponse::json_error(500, e.what());
    }
  }
  send_response(fd, response, head_only);
  // Half-close first so the client reads the whole response before the FIN.
  ::shutdown(fd, SHUT_WR);
}

}  // namespace

struct HttpServer::Impl {
  int listen_fd = -1;
  int wake_read = -1;
  // Read by stop(), which may run in a signal handler: lock-free atomic.
  std::atomic<int> wake_write{-1};
  std::atomic<bool> stop_requested{false};
  std::thread acceptor;
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<int> queue;  // accepted connections waiting for a worker
  bool closing = false;   // guarded by mutex

  ~Impl() {
    for (int fd : queue) ::close(fd);
    for (int fd : {listen_fd, wake_read, wake_write.load()})
      if (fd >= 0) ::close(fd);
  }

  void accept_loop() {
    while (!stop_requested.load()) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_read, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents) break;
      if (!(fds[0].revents & POLLIN)) continue;
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;  // the client gave up between poll and accept, or EMFILE
      std::lock_guard lock(mutex);
      if (queue.size() >= kMaxQueuedConnections) {
        ::close(fd);
        continue;
      }
      queue.push_back(fd);
      ready.notify_one();
    }
    std::lock_guard lock(mutex);
    closing = true;
    ready.notify_all();
  }

  void worker_loop(const HttpHandlerFactory& factory, double timeout) {
    HttpHandler handler = factory();
    while (true) {
      int fd;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return closing || !queue.empty(); });
        if (closing) return;  // queued connections are closed by ~Impl
        fd = queue.front();
        queue.pop_front();
      }
      serve_connection(fd, handler, timeout);
      ::close(fd);
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandlerFactory factory)
    : options_(std::move(options)), factory_(std::move(factory)), impl_(std::make_unique<Impl>()) {
  if (options_.threads < 1)
    throw Error("HttpServerOptions::threads must be >= 1, found " + std::to_string(options_.threads));
  if (options_.port < 0 || options_.port > 65535)
    throw Error("HttpServerOptions::port must be in 0..65535, found " + std::to_string(options_.port));
  if (!(options_.io_timeout_seconds > 0)) throw Error("HttpServerOptions::io_timeout_seconds must be > 0");
}

HttpServer::~HttpServer() {
  stop();
  wait();
}

void HttpServer::start() {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(), &hints, &found);
  if (rc != 0) throw IoError("cannot listen on " + where + ": " + ::gai_strerror(rc));
  int error = 0;
  for (addrinfo* ai = found; ai != nullptr && impl_->listen_fd < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    int one = 1;
    // A restarted dashboard rebinds its port at once, not after TIME_WAIT.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      impl_->listen_fd = fd;
    } else {
      error = errno;
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (impl_->listen_fd < 0) throw IoError("cannot listen on " + where + ": " + std::strerror(error));

  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
    throw IoError(std::string("cannot create the server's wake-up pipe: ") + std::strerror(errno));
  impl_->wake_read = pipe_fds[0];
  impl_->wake_write = pipe_fds[1];
  // stop() before start() finished still stops the server.
  if (impl_->stop_requested.load()) stop();

  for (int i = 0; i < options_.threads; ++i)
    impl_->workers.emplace_back([this] { impl_->worker_loop(factory_, options_.io_timeout_seconds); });
  impl_->acceptor = std::thread([this] { impl_->accept_loop(); });
}

void HttpServer::stop() noexcept {
  impl_->stop_requested.store(true);
  int fd = impl_->wake_write;
  if (fd >= 0) {
    char byte = 1;
    // Full pipe: a wake-up is pending already. Nothing else can go wrong here.
    [[maybe_unused]] ssize_t ignored = ::write(fd, &byte, 1);
  }
}

void HttpServer::wait() {
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  for (auto& worker : impl_->workers)
    if (worker.joinable()) worker.join();
}

}  // namespace kiln::ui
