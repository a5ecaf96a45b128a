// Where a config value came from: a file position or a command-line override.
//
// Every Node carries a Source so that every error can say where the offending
// value was written ("configs/optimizer/adamw.yaml:4:7" or
// "override #2 'optimizer.lr=abc'"). Sources are cheap to copy: the file name
// is shared.
#pragma once

#include <memory>
#include <string>

namespace kiln::config {

struct Source {
  // A file path, a description such as "override #2 'a=b'", or null when the
  // value was made by code.
  std::shared_ptr<const std::string> origin;
  int line = 0;    // 1-based; 0 when origin is not a file
  int column = 0;  // 1-based; 0 when origin is not a file

  static Source file(std::shared_ptr<const std::string> path, int line, int column) {
    return Source{std::move(path), line, column};
  }
  // An override given on the command line; index is 1-based as users count.
  static Source override_arg(int index, const std::string& text);
  // A value made by code (a default, a resolver result).
  static Source generated(const std::string& what) { return Source{std::make_shared<const std::string>(what), 0, 0}; }

  bool known() const { return origin != nullptr; }
  // "path:line:col", "override #k 'text'", or "<unknown>".
  std::string str() const;
};

}  // namespace kiln::config
