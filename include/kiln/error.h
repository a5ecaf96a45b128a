// kiln's error hierarchy: the one channel for user and environment errors.
//
// Every error a user can cause (a config typo, a missing file, a bad flag)
// throws a kiln::Error subclass; each subclass has a stable process exit code
// so scripts can tell failures apart. Bugs are internal asserts, not Errors.
// The CLI catches kiln::Error exactly once, in kiln::main, prints what() and
// exits with exit_code().
#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

// Stable exit codes. Never renumber: scripts and CI depend on them.
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,       // a run failed for a reason not listed below
  kConfig = 2,        // the composed config is invalid (also bad CLI usage)
  kIo = 74,           // a file could not be read or written (sysexits EX_IOERR)
  kInterrupted = 130  // SIGINT, as a shell reports it
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::kFailure)
      : std::runtime_error(message), code_(code) {}
  ExitCode exit_code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// Bad command-line usage (unknown flag, missing argument). Exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message, ExitCode::kConfig) {}
};

// A file or directory could not be read or written; the message carries the
// path and strerror. Exit code 74.
class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(message, ExitCode::kIo) {}
};

}  // namespace kiln
