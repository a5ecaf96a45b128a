// A real HTTP server on 127.0.0.1 (kiln's own, src/ui/http_server) serving
// a directory with Range support, recording every request: what the
// fetchers' resume and error paths are tested against.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "kiln/track/env.h"
#include "kiln/ui/http_server.h"

namespace kiln::testing {

struct ServedRequest {
  std::string path;
  std::string range;             // the Range header, "" when none
  std::uint64_t body_bytes = 0;  // bytes of file content sent
  int status = 0;
};

class RangeFileServer {
 public:
  explicit RangeFileServer(std::filesystem::path root) : root_(std::move(root)) {
    server_ =
        std::make_unique<ui::HttpServer>(ui::HttpServerOptions{.host = "127.0.0.1", .port = 0, .threads = 2},
                                         [this] { return [this](const ui::HttpRequest& r) { return serve(r); }; });
    server_->start();
  }
  ~RangeFileServer() {
    server_->stop();
    server_->wait();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  // A server that answers a Range request with the whole file (200), as
  // Python's http.server does.
  void set_ignore_range(bool ignore) { ignore_range_ = ignore; }

  std::vector<ServedRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  ui::HttpResponse serve(const ui::HttpRequest& request) {
    ServedRequest record{request.path, request.header("range") ? *request.header("range") : "", 0, 200};
    ui::HttpResponse response;
    response.content_type = "application/octet-stream";
    std::string decoded = ui::url_decode(request.path).value_or("");
    std::filesystem::path file = root_ / decoded.substr(std::min<std::size_t>(1, decoded.size()));
    if (decoded.empty() || decoded.find("..") != std::string::npos || !Env::Default().exists(file)) {
      response = ui::HttpResponse::json_error(404, "no such file");
    } else {
      std::string content = Env::Default().read_file(file);
      std::uint64_t from = 0;
      if (!record.range.empty() && !ignore_range_ && record.range.starts_with("bytes=")) {
        from = std::stoull(record.range.substr(6));
        if (from >= content.size()) {
          response = ui::HttpResponse::json_error(416, "range not satisfiable");
        } else {
          response.status = 206;
          response.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" +
                                                             std::to_string(content.size() - 1) + "/" +
                                                             std::to_string(content.size()));
        }
      }
      if (response.status < 300) {
        response.body = content.substr(from);
        record.body_bytes = response.body.size();
      }
    }
    record.status = response.status;
    std::lock_guard lock(mutex_);
    requests_.push_back(record);
    return response;
  }

  std::filesystem::path root_;
  bool ignore_range_ = false;
  std::mutex mutex_;
  std::vector<ServedRequest> requests_;
  std::unique_ptr<ui::HttpServer> server_;
};

}  // namespace kiln::testing
