// A real S3-compatible server for tests: s3rver from the npm registry
// (tests/data_catalog/s3rver, installed by tests/data_catalog/s3rver.cmake),
// started on a free 127.0.0.1 port with one bucket, stopped by the
// destructor. A test binary gets KILN_NODE and KILN_S3RVER_JS defined when
// node and npm were found at configure time; without them, skip. Links
// kiln_dist_launch (free_loopback_port).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kiln/dist/launcher.h"

extern char** environ;

namespace kiln::testing {

class S3rver {
 public:
  // Serves `bucket` from `directory`; throws std::runtime_error when the
  // server does not start within 20 s.
  S3rver(const std::string& node, const std::string& s3rver_js, const std::filesystem::path& directory,
         const std::string& bucket) {
    port_ = kiln::dist::free_loopback_port();
    std::filesystem::create_directories(directory);
    std::vector<std::string> args = {
        node,          s3rver_js,          "--address", "127.0.0.1",          "--port", std::to_string(port_),
        "--directory", directory.string(), "--silent",  "--configure-bucket", bucket};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Its start-up banner ignores --silent; keep it out of the test log.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const int spawned = ::posix_spawn(&pid_, node.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start s3rver with " + node);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!accepts(port_)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("s3rver did not start on port " + std::to_string(port_));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~S3rver() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  static bool accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace kiln::testing
