#include "stderr_tee.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "kiln/error.h"

namespace kiln::cli {
namespace {

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk must not stop training; the terminal still has it
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string plain_lines(const std::string& chunk, std::string& pending) {
  std::string done;
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (c == '\033') {
      // CSI: ESC [ parameters... final byte in @..~
      if (i + 1 < chunk.size() && chunk[i + 1] == '[') {
        i += 2;
        while (i < chunk.size() && !(chunk[i] >= '@' && chunk[i] <= '~')) ++i;
      }
      continue;
    }
    if (c == '\r') {
      // A redraw follows; "\r\n" keeps the line.
      if (i + 1 < chunk.size() && chunk[i + 1] == '\n') continue;
      pending.clear();
    } else if (c == '\n') {
      done += pending;
      done += '\n';
      pending.clear();
    } else {
      pending += c;
    }
  }
  return done;
}

StderrTee::StderrTee(const std::filesystem::path& log_file) {
  if (!std::getenv("KILN_PROGRESS"))
    ::setenv("KILN_PROGRESS", ::isatty(STDERR_FILENO) && !std::getenv("CI") ? "tty" : "plain", 1);
  log_fd_ = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (log_fd_ < 0) throw IoError("cannot open '" + log_file.string() + "': " + std::strerror(errno));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::close(log_fd_);
    throw IoError(std::string("cannot create a pipe for train.log: ") + std::strerror(errno));
  }
  std::fflush(stderr);
  std::cerr.flush();
  saved_stderr_ = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  ::dup2(fds[1], STDERR_FILENO);  // without O_CLOEXEC: subprocesses write here too
  ::close(fds[1]);
  pipe_read_ = fds[0];
  copier_ = std::thread([this] { copy_until_closed(); });
}

StderrTee::~StderrTee() {
  std::fflush(stderr);
  std::cerr.flush();
  // Closing the pipe's last write end (fd 2) lets the copier see EOF.
  ::dup2(saved_stderr_, STDERR_FILENO);
  copier_.join();
  ::close(saved_stderr_);
  ::close(pipe_read_);
  ::close(log_fd_);
}

void StderrTee::copy_until_closed() {
  std::string pending;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(pipe_read_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    write_all(saved_stderr_, buffer, static_cast<std::size_t>(n));
    std::string lines = plain_lines(std::string(buffer, static_cast<std::size_t>(n)), pending);
    write_all(log_fd_, lines.data(), lines.size());
  }
  if (!pending.empty()) {
    pending += '\n';
    write_all(log_fd_, pending.data(), pending.size());
  }
}

}  // namespace kiln::cli
