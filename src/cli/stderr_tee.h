// train.log: everything the run prints to stderr, also kept in a file.
//
// While a StderrTee lives, fd 2 is a pipe read by a thread that copies each
// chunk to the real stderr unchanged and to the log file as plain lines: a
// progress bar that redraws its line with '\r' leaves only its last state of
// each line in the file, and terminal escape sequences are dropped. Because
// it works at the file-descriptor level it catches every writer: kiln's
// progress bar and messages, LibTorch's warnings, subprocesses.
//
// Before redirecting it sets KILN_PROGRESS (unless the user did) to "tty" or
// "plain" from whether the real stderr is a terminal, since the progress bar
// can no longer ask isatty(2) itself.
//
// Not reentrant: one StderrTee at a time per process.
#pragma once

#include <filesystem>
#include <string>
#include <thread>

namespace kiln::cli {

class StderrTee {
 public:
  // Appends to `log_file` (created when absent). Throws kiln::IoError.
  explicit StderrTee(const std::filesystem::path& log_file);
  // Restores fd 2 and writes out whatever is still in the pipe.
  ~StderrTee();
  StderrTee(const StderrTee&) = delete;
  StderrTee& operator=(const StderrTee&) = delete;

 private:
  void copy_until_closed();

  int log_fd_ = -1;
  int saved_stderr_ = -1;
  int pipe_read_ = -1;
  std::thread copier_;
};

// Applies '\r' (return to line start) and drops ANSI escape sequences:
// what a line shows on a terminal once printed, for a log file. `pending`
// carries an unfinished line between calls; returns the completed lines,
// each ending in '\n'.
std::string plain_lines(const std::string& chunk, std::string& pending);

}  // namespace kiln::cli
