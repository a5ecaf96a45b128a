#include "kiln/track/run_dir.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "kiln/error.h"

namespace kiln::track {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
  throw IoError(what + " '" + path.string() + "': " + std::strerror(error));
}

void create_root(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) fail("cannot create run root", root, ec.value());
  // Name root itself when it is a file, rather than let mkdir blame root/<id>.
  if (!std::filesystem::is_directory(root, ec)) fail("cannot create run root", root, ENOTDIR);
}

// "20240314-092653-3fa9c01e" -> "2024-03-14_09-26-53_3fa9c01e"; nullopt for
// ids of any other shape.
std::optional<std::string> readable_name(const std::string& id) {
  if (id.size() < 17 || id[8] != '-' || id[15] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14})
    if (id[i] < '0' || id[i] > '9') return std::nullopt;
  return id.substr(0, 4) + "-" + id.substr(4, 2) + "-" + id.substr(6, 2) + "_" + id.substr(9, 2) + "-" +
         id.substr(11, 2) + "-" + id.substr(13, 2) + "_" + id.substr(16);
}

}  // namespace

std::string run_dir_name(const RunId& id) {
  if (id.source != RunIdSource::kGenerated) return id.value;
  return readable_name(id.value).value_or(id.value);
}

RunId run_id_from_dir_name(const std::string& name) {
  // "2024-03-14_09-26-53_3fa9c01e" -> "20240314-092653-3fa9c01e"
  if (name.size() > 20 && name[4] == '-' && name[7] == '-' && name[10] == '_' && name[13] == '-' && name[16] == '-' &&
      name[19] == '_') {
    std::string id = name.substr(0, 4) + name.substr(5, 2) + name.substr(8, 2) + "-" + name.substr(11, 2) +
                     name.substr(14, 2) + name.substr(17, 2) + "-" + name.substr(20);
    if (readable_name(id) == name) return RunId{id, RunIdSource::kGenerated};
  }
  return RunId{name, RunIdSource::kKilnRunId};
}

RunDir create_run_dir(const std::filesystem::path& root, const RunId& id, const RunDirOptions& options) {
  if (!is_valid_run_id(id.value)) {
    // The id becomes a path component; "../x" must never leave root.
    throw UsageError("run id '" + id.value + "' is not a valid run id: expected 1 to " +
                     std::to_string(kMaxRunIdLength) +
                     " characters from A-Z a-z 0-9 . _ - , not starting with '.' or '-'");
  }
  create_root(root);
  RunDir dir{root / run_dir_name(id), id, true};
  for (int attempt = 0;; ++attempt) {
    if (::mkdir(dir.path.c_str(), 0777) == 0) return dir;
    const int error = errno;
    if (error != EEXIST) fail("cannot create run directory", dir.path, error);
    if (id.shared()) {
      // Another rank of this run made it first.
      struct stat info {};
      if (::stat(dir.path.c_str(), &info) != 0) fail("cannot create run directory", dir.path, errno);
      if (!S_ISDIR(info.st_mode)) fail("cannot create run directory", dir.path, ENOTDIR);
      dir.created = false;
      return dir;
    }
    if (attempt + 1 >= options.max_attempts) {
      throw IoError("cannot create run directory '" + dir.path.string() + "': " + std::strerror(EEXIST) + " (" +
                    std::to_string(options.max_attempts) +
                    " fresh run ids all collided; is the random source broken?)");
    }
    dir.id = RunId{generate_run_id(options.env), RunIdSource::kGenerated};
    dir.path = root / run_dir_name(dir.id);
  }
}

}  // namespace kiln::track
