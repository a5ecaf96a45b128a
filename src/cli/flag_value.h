// `--flag VALUE` and `--flag=VALUE`, the two spellings every kiln command
// takes for a flag with a value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "kiln/error.h"

namespace kiln::cli {

// The value of `flag` when args[i] is that flag (i then moves past a
// separate value), nullopt when args[i] is another argument. A flag last on
// the line is a UsageError naming `command` ("kiln ui: --port needs a value").
inline std::optional<std::string> flag_value(const std::vector<std::string>& args, std::size_t& i,
                                             const std::string& flag, const std::string& command) {
  const std::string& a = args[i];
  if (a.starts_with(flag + "=")) return a.substr(flag.size() + 1);
  if (a != flag) return std::nullopt;
  if (i + 1 >= args.size()) throw UsageError(command + ": " + flag + " needs a value");
  return args[++i];
}

}  // namespace kiln::cli
