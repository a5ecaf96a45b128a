// A small HTTP/1.1 server over POSIX sockets for the dashboard: one thread
// accepts, a fixed pool of workers each serve one connection at a time (one
// request per connection; responses close it).
//
// Each worker calls the handler factory once and keeps the handler it
// returns for its whole life, so a handler may hold per-thread state (the
// dashboard keeps one read-only RunStore connection per worker).
//
// Robustness: slow or silent clients time out (io_timeout_seconds) rather
// than hold a worker; a client that hangs up mid-response costs nothing
// (MSG_NOSIGNAL, no SIGPIPE); an exception from a handler becomes a 500
// with {"error": what()}.
//
// Thread safety: start() and wait() from one thread; stop() from any
// thread and from a signal handler (it only write(2)s to a pipe).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kiln/ui/http_message.h"

namespace kiln::ui {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Called once on each worker thread.
using HttpHandlerFactory = std::function<HttpHandler()>;

struct HttpServerOptions {
  // A name or address for getaddrinfo: "127.0.0.1", "localhost", "0.0.0.0", "::".
  std::string host = "127.0.0.1";
  // 0 = an ephemeral port; port() says which.
  int port = 8765;
  // Worker threads, i.e. requests served at once (>= 1).
  int threads = 8;
  // A client that sends or reads nothing for this long is dropped.
  double io_timeout_seconds = 10;
};

class HttpServer {
 public:
  // Validates the options; binds nothing yet.
  HttpServer(HttpServerOptions options, HttpHandlerFactory factory);
  // Stops and joins the threads.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then starts the threads and returns. Throws
  // kiln::IoError naming the address and strerror (port in use, bad host).
  void start();
  // The bound port (after start()).
  int port() const { return port_; }
  // Asks the server to stop: accepting ends, in-flight requests finish.
  // Async-signal-safe.
  void stop() noexcept;
  // Blocks until stop() has been called and every thread has ended.
  void wait();

 private:
  struct Impl;
  HttpServerOptions options_;
  HttpHandlerFactory factory_;
  int port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::ui
