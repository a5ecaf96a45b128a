#include "store_args.h"

#include <cstdlib>
#include <filesystem>

#include "kiln/error.h"

namespace kiln::cli {

StoreArgs::StoreArgs(Args args) : positionals(std::move(args)) {
  const char* env = std::getenv("KILN_STORE");
  store_path_ = env && *env ? env : "runs/kiln.db";
  if (auto path = take_value("--store")) store_path_ = *path;
}

std::optional<std::string> StoreArgs::take_value(const std::string& name) {
  std::optional<std::string> value;
  for (std::size_t i = 0; i < positionals.size();) {
    const std::string& a = positionals[i];
    if (a == name) {
      if (i + 1 >= positionals.size()) throw UsageError(name + " needs a value");
      value = positionals[i + 1];
      positionals.erase(positionals.begin() + static_cast<std::ptrdiff_t>(i),
                        positionals.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    } else if (a.starts_with(name + "=")) {
      value = a.substr(name.size() + 1);
      positionals.erase(positionals.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  return value;
}

bool StoreArgs::take_flag(const std::string& name) {
  bool found = false;
  for (std::size_t i = 0; i < positionals.size();) {
    if (positionals[i] == name) {
      positionals.erase(positionals.begin() + static_cast<std::ptrdiff_t>(i));
      found = true;
    } else {
      ++i;
    }
  }
  return found;
}

void StoreArgs::expect_positionals(std::size_t min, std::size_t max, const std::string& usage) {
  for (const std::string& a : positionals)
    if (a.size() > 1 && a[0] == '-') throw UsageError(usage + ": unknown option '" + a + "'");
  if (positionals.size() < min || positionals.size() > max)
    throw UsageError("usage: " + usage + " (got " + std::to_string(positionals.size()) + " argument" +
                     (positionals.size() == 1 ? "" : "s") + ")");
}

track::RunStore StoreArgs::open_store() const {
  if (!std::filesystem::exists(store_path_))
    throw UsageError("no run store at '" + store_path_ + "'\n  hint: `kiln train` creates it in <run.root>/kiln.db; " +
                     "pass --store PATH or set KILN_STORE for another one");
  // Read-write: opening marks runs whose process died (run_store.h).
  return track::RunStore(track::RunStoreOptions{.path = store_path_});
}

std::int64_t parse_count(const std::string& option, const std::string& value) {
  char* end = nullptr;
  long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 0)
    throw UsageError(option + " takes a whole number >= 0, found '" + value + "'");
  return n;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

track::RunRecord resolve_or_throw(track::RunStore& store, const std::string& ref) {
  if (std::optional<track::RunRecord> run = store.resolve_run(ref)) return *run;
  throw UsageError("no run '" + ref + "' in " + store.path().string() +
                   " (RUN is an id, a unique id prefix, a run name or `last`; see kiln runs ls)");
}

}  // namespace kiln::cli
