// Arguments of the commands that read the run store (kiln runs, kiln
// reproduce): --store, flags and values taken by name, the rest positional.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "kiln/track/run_store.h"

namespace kiln::cli {

class StoreArgs {
 public:
  // Takes --store PATH (or --store=PATH) out of `args` right away.
  explicit StoreArgs(Args args);

  // `--name VALUE` or `--name=VALUE`, removed from the arguments; nullopt
  // when absent. Throws UsageError when the value is missing.
  std::optional<std::string> take_value(const std::string& name);
  // `--name`, removed; whether it was there.
  bool take_flag(const std::string& name);
  // What is left must be between min and max positional arguments, none
  // starting with '-'. Throws UsageError naming `usage`.
  void expect_positionals(std::size_t min, std::size_t max, const std::string& usage);

  // The store at --store, $KILN_STORE or runs/kiln.db; it must exist.
  track::RunStore open_store() const;
  const std::string& store_path() const { return store_path_; }

  std::vector<std::string> positionals;

 private:
  std::string store_path_;
};

// A non-negative integer option value; UsageError naming the option.
std::int64_t parse_count(const std::string& option, const std::string& value);
// "a,b,c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> split_list(const std::string& text);
// The run RUN names, or UsageError saying there is none of that name.
track::RunRecord resolve_or_throw(track::RunStore& store, const std::string& ref);

}  // namespace kiln::cli
