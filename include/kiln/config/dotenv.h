// .env files: KEY=VALUE lines loaded into the process environment, so that
// ${oc.env:WANDB_API_KEY} can read secrets kept out of configs and history.
//
// The syntax is python-dotenv's (0.21, as Debian ships it):
//   # a comment line             KEY=value   # a trailing comment (after a space)
//   export KEY=value              KEY = value (spaces around '=' are fine)
//   KEY='single quoted'           only \\ and \' are escapes inside
//   KEY="double quoted\n"         \n \t \r \\ \" \' \a \b \f \v are escapes; may span lines
//   KEY=                          the empty string
//   KEY                           no '=': ignored (python-dotenv gives it no value)
//   URL=${HOST}:8080              ${NAME} and ${NAME:-default} expand, from the
//                                 environment first, then earlier lines of the file
// A variable already set in the environment wins over the file: the file is
// a default, never an override. A repeated key takes its last value.
//
// Bad lines (an unterminated quote, text after a quoted value, a line that
// is not KEY=VALUE) are collected and thrown as one ConfigError, each with
// "path:line:col"; nothing is set when any line is bad.
//
// Thread safety: load_dotenv calls setenv, which must not race with other
// threads reading or writing the environment; call it at startup.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::config {

struct DotenvEntry {
  std::string key;
  std::optional<std::string> value;  // nullopt for a bare "KEY" line; escapes decoded, ${...} not yet expanded
  int line = 0;                      // 1-based line where the entry starts
};

// Parses .env text; `origin` names it in errors (a path). Throws ConfigError
// listing every bad line.
std::vector<DotenvEntry> parse_dotenv(std::string_view text, const std::string& origin);

// Reads, parses and applies the file at `path`: every entry with a value
// whose key is not already in the environment is set, ${...} expanded.
// Returns the names it set, in file order. Throws IoError when the file
// cannot be read and ConfigError for bad lines.
std::vector<std::string> load_dotenv(const std::string& path);

}  // namespace kiln::config
