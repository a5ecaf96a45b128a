// FaultInjectionEnv: an Env for tests that fails or "crashes" on cue.
//
// It forwards every call to a base Env (the real file system by default) and
// numbers the mutating operations in the order they run, starting at 0:
// creating or opening a file for writing, append, sync, close, sync_dir,
// rename, remove_file, remove_dir, create_dir. Reads, stat and list_dir are
// not numbered. ops() lists them ("rename <from> -> <to>", ...), which is how
// a test finds the step it wants to break.
//
// Three faults, modelled on leveldb's fault_injection_test:
//
//   crash_before(k)      Operation k and everything after it, reads included,
//                        throw SimulatedCrash without touching the disk, as if
//                        the process had been killed just before operation k.
//                        SimulatedCrash is not a kiln::Error, so code that
//                        cleans up after errors does not run (a killed process
//                        cleans nothing), and whatever cleanup a destructor
//                        attempts is refused too.
//   drop_unsynced_data() After a crash: the machine lost power as well. Every
//                        file written through this Env is cut back to the
//                        size it had at its last sync(); every file or
//                        directory creation and every rename not yet made
//                        durable by sync_dir() of its directory is undone
//                        (newest first; a file replaced by a rename gets its
//                        old contents back). Removals are not undone.
//   fail_appends_from(n) A full disk: append number n (0-based, counting
//                        appends only) and all later ones throw kiln::IoError
//                        "cannot write '<path>': <strerror(error)>", the first
//                        one after writing `partial_bytes` of its data, as a
//                        real write(2) does when the disk fills mid-call.
//
// Not thread-safe: one test thread drives it.
#pragma once

#include <cerrno>
#include <cstddef>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiln/track/env.h"

namespace kiln {

// Thrown by a crashed FaultInjectionEnv. Deliberately not a kiln::Error.
class SimulatedCrash : public std::exception {
 public:
  explicit SimulatedCrash(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

class FaultInjectionEnv : public Env {
 public:
  // `base` must outlive this Env.
  explicit FaultInjectionEnv(Env& base = Env::Default()) : base_(base) {}

  void crash_before(std::size_t op) { crash_at_ = op; }
  void fail_appends_from(std::size_t n, int error = ENOSPC, std::size_t partial_bytes = 0) {
    fail_append_at_ = n;
    fail_errno_ = error;
    fail_partial_bytes_ = partial_bytes;
  }
  // Only meaningful after a crash (or instead of one: "power loss now").
  void drop_unsynced_data();

  // Mutating operations that ran (the crashed one not included).
  std::size_t op_count() const { return ops_.size(); }
  const std::vector<std::string>& ops() const { return ops_; }
  bool crashed() const { return crashed_; }

  std::unique_ptr<WritableFile> new_writable_file(const std::filesystem::path& path) override;
  std::unique_ptr<WritableFile> new_appendable_file(const std::filesystem::path& path) override;
  std::unique_ptr<SequentialFile> new_sequential_file(const std::filesystem::path& path) override;
  void sync_dir(const std::filesystem::path& dir) override;
  void rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  void remove_file(const std::filesystem::path& path) override;
  void remove_dir(const std::filesystem::path& dir) override;
  bool create_dir(const std::filesystem::path& dir) override;
  std::vector<std::string> list_dir(const std::filesystem::path& dir) override;
  std::optional<FileInfo> stat(const std::filesystem::path& path) override;
  std::chrono::system_clock::time_point now() override;
  std::uint32_t random32() override;

 private:
  friend class FaultWritableFile;

  struct FileState {
    std::uint64_t written = 0;  // bytes in the file now
    std::uint64_t synced = 0;   // bytes that survive a power loss
  };
  // A directory entry change that a power loss would undo.
  struct PendingEntry {
    enum class Kind { kCreateFile, kCreateDir, kRename } kind;
    std::filesystem::path from;           // kRename only
    std::filesystem::path to;             // the created or renamed-to path
    std::optional<std::string> replaced;  // contents of a file that `to` replaced
    bool to_durable = false, from_durable = false;
  };

  // Numbers one mutating operation; throws SimulatedCrash when it is the one
  // to crash at, or when the crash already happened.
  void begin(const std::string& description);
  void check_alive() const;
  std::unique_ptr<WritableFile> open(const std::filesystem::path& path, bool append);
  void move_tracked(const std::filesystem::path& from, const std::filesystem::path& to);
  void forget_tracked(const std::filesystem::path& path);

  Env& base_;
  std::vector<std::string> ops_;
  std::optional<std::size_t> crash_at_;
  bool crashed_ = false;
  std::size_t appends_ = 0;
  std::optional<std::size_t> fail_append_at_;
  int fail_errno_ = ENOSPC;
  std::size_t fail_partial_bytes_ = 0;
  std::map<std::filesystem::path, FileState> files_;
  std::vector<PendingEntry> pending_;
};

}  // namespace kiln
