// kiln::Env: the one seam between kiln and the file system, clock and entropy.
//
// Everything that must survive a crash (checkpoints, the run store) does its
// file access through an Env, never through std::fstream or std::filesystem
// directly, so tests can swap in FaultInjectionEnv (fault_injection_env.h) and
// inject a full disk or a crash between any two operations, as leveldb's Env
// and fault_injection_test do.
//
// The interface is a handful of virtual primitives, each one system call's
// worth of work (open, write, fsync, rename, unlink, mkdir, readdir, stat),
// plus non-virtual helpers built only from those primitives (write_file,
// read_file, create_dirs, remove_all), so an injected fault hits the helpers
// too.
//
// Errors: every failure throws kiln::IoError whose message names the
// operation, the path(s) and strerror, e.g.
//   cannot write '/runs/x/step-00000010/model.safetensors': No space left on device
// A missing file is an error for operations that need it; stat() and
// exists() report it as a value instead.
//
// Durability: nothing is durable until synced. A file's data needs
// WritableFile::sync(); a new, renamed or removed directory entry needs
// sync_dir() of the directory holding it (POSIX; ext4 and xfs behave so).
//
// Thread safety: Env::Default() and its files may be used from any number of
// threads, one thread per file object at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// A file open for writing. Writes go straight to the OS (no user-space
// buffer), so append() with large chunks is the efficient way to use it. The
// destructor closes the file without syncing and ignores errors; call sync()
// and close() to learn about them.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file (retrying short writes).
  virtual void append(std::string_view data) = 0;
  // fsync(2): data and size durable once this returns.
  virtual void sync() = 0;
  // Closes the file; later calls do nothing. close(2) can report a delayed
  // write error (NFS), so callers that care call it explicitly.
  virtual void close() = 0;
  virtual const std::filesystem::path& path() const = 0;
};

// A file open for reading from the start.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `size` bytes into `buffer`; returns how many, 0 at end of file.
  virtual std::size_t read(char* buffer, std::size_t size) = 0;
  virtual const std::filesystem::path& path() const = 0;
};

struct FileInfo {
  bool is_directory = false;
  std::uint64_t size = 0;     // bytes, for regular files
  std::int64_t mtime_ns = 0;  // last modification, nanoseconds since the epoch (0 when unknown)
};

class Env {
 public:
  virtual ~Env() = default;

  // The real POSIX file system, system clock and getrandom(2). Never destroyed.
  static Env& Default();

  // ---- primitives (one system call each; FaultInjectionEnv counts these)

  // Creates `path`, or truncates it if it exists; mode 0644 minus umask.
  virtual std::unique_ptr<WritableFile> new_writable_file(const std::filesystem::path& path) = 0;
  // Opens `path` for appending, creating it if missing.
  virtual std::unique_ptr<WritableFile> new_appendable_file(const std::filesystem::path& path) = 0;
  virtual std::unique_ptr<SequentialFile> new_sequential_file(const std::filesystem::path& path) = 0;
  // fsync(2) of a directory: makes creations, renames and removals of its
  // entries durable.
  virtual void sync_dir(const std::filesystem::path& dir) = 0;
  // rename(2): atomic; replaces a file `to`, or an empty directory `to`.
  virtual void rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual void remove_file(const std::filesystem::path& path) = 0;
  // Removes an empty directory.
  virtual void remove_dir(const std::filesystem::path& dir) = 0;
  // mkdir(2). Returns false when `dir` already exists as a directory.
  virtual bool create_dir(const std::filesystem::path& dir) = 0;
  // Names of the entries of `dir`, sorted bytewise, without "." and "..".
  virtual std::vector<std::string> list_dir(const std::filesystem::path& dir) = 0;
  // stat(2), following symlinks; nullopt when nothing exists at `path`.
  virtual std::optional<FileInfo> stat(const std::filesystem::path& path) = 0;
  // The wall clock (timestamps written into files).
  virtual std::chrono::system_clock::time_point now() = 0;
  // 32 random bits that differ between processes (temporary names).
  virtual std::uint32_t random32() = 0;

  // ---- helpers (built from the primitives above)

  // Creates or truncates `path` and writes `data`; with `sync`, fsyncs it
  // before closing. Not atomic: see write_file_atomic.
  void write_file(const std::filesystem::path& path, std::string_view data, bool sync = true);
  // Writes `data` to `<dir>/.tmp-<name>-<random>`, fsyncs it, renames it over
  // `path` and fsyncs the directory: readers see the old or the new contents,
  // never a mix, even after a crash or power loss.
  void write_file_atomic(const std::filesystem::path& path, std::string_view data);
  // Appends `data` to `path` (created if missing), without syncing.
  void append_file(const std::filesystem::path& path, std::string_view data);
  // The whole file. Throws IoError when it is larger than `max_size` bytes
  // (guards against reading a huge file where a small one was expected).
  std::string read_file(const std::filesystem::path& path, std::uint64_t max_size = UINT64_MAX);
  bool exists(const std::filesystem::path& path) { return stat(path).has_value(); }
  bool is_directory(const std::filesystem::path& path);
  // Size of a regular file; IoError when missing.
  std::uint64_t file_size(const std::filesystem::path& path);
  // mkdir -p. Returns true when it created `dir` itself.
  bool create_dirs(const std::filesystem::path& dir);
  // rm -rf: removes a file or a directory tree; nothing when missing.
  void remove_all(const std::filesystem::path& path);
};

}  // namespace kiln
