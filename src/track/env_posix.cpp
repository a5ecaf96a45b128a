// Env::Default(): the POSIX implementation of kiln::Env.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
  throw IoError("cannot " + what + " '" + path.string() + "': " + std::strerror(error));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void append(std::string_view data) override {
    check_open("write");
    while (!data.empty()) {
      // Linux writes at most 0x7ffff000 bytes per call; larger requests come
      // back short, which the loop handles like any other short write.
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("write", path_, errno);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void sync() override {
    check_open("fsync");
    if (::fsync(fd_) != 0) fail("fsync", path_, errno);
  }

  void close() override {
    if (fd_ < 0) return;
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("close", path_, errno);
  }

  const std::filesystem::path& path() const override { return path_; }

 private:
  void check_open(const char* what) const {
    if (fd_ < 0) fail(what, path_, EBADF);
  }

  std::filesystem::path path_;
  int fd_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  std::size_t read(char* buffer, std::size_t size) override {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) fail("read", path_, errno);
    }
  }

  const std::filesystem::path& path() const override { return path_; }

 private:
  std::filesystem::path path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  std::unique_ptr<WritableFile> new_writable_file(const std::filesystem::path& path) override {
    return open_for_write(path, O_TRUNC);
  }

  std::unique_ptr<WritableFile> new_appendable_file(const std::filesystem::path& path) override {
    return open_for_write(path, O_APPEND);
  }

  std::unique_ptr<SequentialFile> new_sequential_file(const std::filesystem::path& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) fail("open", path, errno);
    struct stat info {};
    if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
      ::close(fd);
      fail("read", path, EISDIR);
    }
    return std::make_unique<PosixSequentialFile>(path, fd);
  }

  void sync_dir(const std::filesystem::path& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("open directory", dir, errno);
    int rc = ::fsync(fd);
    int error = errno;
    ::close(fd);
    if (rc != 0) fail("fsync directory", dir, error);
  }

  void rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      throw IoError("cannot rename '" + from.string() + "' to '" + to.string() + "': " + std::strerror(errno));
    }
  }

  void remove_file(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) != 0) fail("remove", path, errno);
  }

  void remove_dir(const std::filesystem::path& dir) override {
    if (::rmdir(dir.c_str()) != 0) fail("remove directory", dir, errno);
  }

  bool create_dir(const std::filesystem::path& dir) override {
    if (::mkdir(dir.c_str(), 0777) == 0) return true;
    int error = errno;
    struct stat info {};
    if (error == EEXIST && ::stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return false;
    fail("create directory", dir, error);
  }

  std::vector<std::string> list_dir(const std::filesystem::path& dir) override {
    DIR* handle = ::opendir(dir.c_str());
    if (!handle) fail("list directory", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = ::readdir(handle)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    int error = errno;
    ::closedir(handle);
    if (error != 0) fail("list directory", dir, error);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::optional<FileInfo> stat(const std::filesystem::path& path) override {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
      fail("stat", path, errno);
    }
    return FileInfo{S_ISDIR(info.st_mode), static_cast<std::uint64_t>(info.st_size),
                    static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
  }

  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now(); }

  std::uint32_t random32() override {
    // A device per call: temporary names are made a few times per commit.
    std::random_device device;
    return static_cast<std::uint32_t>(device());
  }

 private:
  std::unique_ptr<WritableFile> open_for_write(const std::filesystem::path& path, int mode) {
    int fd;
    do {
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) fail("create", path, errno);
    return std::make_unique<PosixWritableFile>(path, fd);
  }
};

}  // namespace

Env& Env::Default() {
  // Leaked on purpose: usable from static destructors and other threads at exit.
  static Env* env = new PosixEnv;
  return *env;
}

}  // namespace kiln
