// Checkpoint directory names, the `last` pointer and how a path given by the
// user resolves to a checkpoint directory.
#include "checkpoint_layout.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/train/checkpoint.h"

// Set by CMakeLists.txt from project(VERSION); kiln::version() lives in
// kiln_cli, a layer above train.
#ifndef KILN_VERSION_STRING
#define KILN_VERSION_STRING "unknown"
#endif

namespace kiln::train {

using namespace checkpoint_detail;

namespace checkpoint_detail {

bool is_valid_part_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::optional<std::string> read_last(const std::filesystem::path& root, Env& env) {
  const std::filesystem::path path = root / kLastFile;
  if (!env.exists(path)) return std::nullopt;
  std::string text = env.read_file(path, kMaxLastSize);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (!is_valid_checkpoint_dir_name(text)) {
    std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
    throw IoError("'" + path.string() + "' should name a checkpoint directory like '" + checkpoint_dir_name(1234) +
                  "', but it holds '" + shown + "'");
  }
  return text;
}

std::string random_suffix(Env& env) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", env.random32());
  return buf;
}

std::string format_utc(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

std::optional<std::filesystem::path> latest_checkpoint_dir(const std::filesystem::path& root, Env& env) {
  if (!env.is_directory(root)) return std::nullopt;
  std::optional<std::filesystem::path> best;
  std::int64_t best_step = -1;
  for (const std::string& name : env.list_dir(root)) {
    if (!is_valid_checkpoint_dir_name(name) || !env.exists(root / name / kManifestFile)) continue;
    // Named directories (ModelCheckpoint's) carry their step in the manifest only.
    std::optional<std::int64_t> step;
    try {
      track::JsonValue manifest = track::parse_json(env.read_file(root / name / kManifestFile, kMaxManifestSize));
      if (const track::JsonValue* value = manifest.find("step")) step = value->as_int64();
    } catch (const Error&) {
      continue;  // not a readable checkpoint: not a candidate
    }
    if (step && *step > best_step) {
      best_step = *step;
      best = root / name;
    }
  }
  return best;
}

}  // namespace checkpoint_detail

const char* checkpoint_kiln_version() { return KILN_VERSION_STRING; }

std::string checkpoint_dir_name(std::int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

std::optional<std::int64_t> parse_checkpoint_dir_name(std::string_view name) {
  constexpr std::string_view kPrefix = "step-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::int64_t step = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    step = step * 10 + (c - '0');
  }
  // Only the canonical spelling: "step-1" and "step-000000001" are not ours.
  if (checkpoint_dir_name(step) != name) return std::nullopt;
  return step;
}

bool is_valid_checkpoint_dir_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.front() == '-') return false;
  if (name == kLastFile || name == kLatest) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '=';
  });
}

std::vector<std::int64_t> list_checkpoints(const std::filesystem::path& root, Env& env) {
  std::vector<std::int64_t> steps;
  if (!env.is_directory(root)) return steps;
  for (const std::string& name : env.list_dir(root)) {
    auto step = parse_checkpoint_dir_name(name);
    if (step && env.exists(root / name / kManifestFile)) steps.push_back(*step);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::optional<std::filesystem::path> find_checkpoint(const std::filesystem::path& where, Env& env) {
  const std::string leaf = where.filename().string();
  const bool is_dir = env.is_directory(where);
  const std::filesystem::path parent = where.has_parent_path() ? where.parent_path() : ".";
  std::filesystem::path root;
  if (!is_dir && leaf == kLatest) {
    root = parent;
    return latest_checkpoint_dir(root, env);
  }
  if (!is_dir && leaf == kLastFile) {
    root = parent;
  } else if (is_dir && env.exists(where / kManifestFile)) {
    return where;
  } else if (is_dir) {
    root = where;
  } else {
    return std::nullopt;
  }
  std::optional<std::string> last = read_last(root, env);
  if (!last) return std::nullopt;
  std::filesystem::path dir = root / *last;
  if (!env.is_directory(dir)) {
    throw IoError("'" + (root / kLastFile).string() + "' names '" + *last + "', but '" + dir.string() +
                  "' does not exist (was it deleted by hand?); load an older checkpoint by its directory, or '" +
                  (root / kLatest).string() + "'");
  }
  return dir;
}

}  // namespace kiln::train
