// What tests that run the real `kiln` binary through /bin/sh share: quoting
// for the shell, reading back what the command wrote.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::testing {

// The whole file, or "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `s` as one single-quoted /bin/sh word.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

// Runs `command` through /bin/sh with stdin from /dev/null and stdout and
// stderr captured in files under `capture_dir`.
inline CommandResult run_command(const std::string& command, const std::filesystem::path& capture_dir) {
  std::filesystem::path out = capture_dir / "stdout", err = capture_dir / "stderr";
  std::string line = command + " </dev/null >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  int status = std::system(line.c_str());
  return CommandResult{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

}  // namespace kiln::testing
