// The helpers of kiln::Env, built only from its virtual primitives so that a
// FaultInjectionEnv sees (and can fail) every step they take.
#include "kiln/track/env.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kiln/error.h"

namespace kiln {

void Env::write_file(const std::filesystem::path& path, std::string_view data, bool sync) {
  auto file = new_writable_file(path);
  file->append(data);
  if (sync) file->sync();
  file->close();
}

void Env::write_file_atomic(const std::filesystem::path& path, std::string_view data) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%08x", random32());
  std::filesystem::path temp = path.parent_path() / (".tmp-" + path.filename().string() + suffix);
  try {
    write_file(temp, data, /*sync=*/true);
    rename(temp, path);
  } catch (const Error&) {
    try {
      if (exists(temp)) remove_file(temp);
    } catch (const Error&) {
      // The first error is the one worth reporting.
    }
    throw;
  }
  sync_dir(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

void Env::append_file(const std::filesystem::path& path, std::string_view data) {
  auto file = new_appendable_file(path);
  file->append(data);
  file->close();
}

std::string Env::read_file(const std::filesystem::path& path, std::uint64_t max_size) {
  auto file = new_sequential_file(path);
  std::string out;
  std::vector<char> buffer(1 << 16);
  for (std::size_t n; (n = file->read(buffer.data(), buffer.size())) > 0;) {
    if (out.size() + n > max_size) {
      throw IoError("cannot read '" + path.string() + "': it is larger than the " + std::to_string(max_size) +
                    " bytes expected of it");
    }
    out.append(buffer.data(), n);
  }
  return out;
}

bool Env::is_directory(const std::filesystem::path& path) {
  auto info = stat(path);
  return info && info->is_directory;
}

std::uint64_t Env::file_size(const std::filesystem::path& path) {
  auto info = stat(path);
  if (!info) throw IoError("cannot stat '" + path.string() + "': " + std::strerror(ENOENT));
  return info->size;
}

bool Env::create_dirs(const std::filesystem::path& dir) {
  if (dir.empty()) return false;
  if (auto info = stat(dir)) {
    if (!info->is_directory) throw IoError("cannot create directory '" + dir.string() + "': " + std::strerror(EEXIST));
    return false;
  }
  std::filesystem::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) create_dirs(parent);
  return create_dir(dir);
}

void Env::remove_all(const std::filesystem::path& path) {
  auto info = stat(path);
  if (!info) return;
  if (!info->is_directory) {
    remove_file(path);
    return;
  }
  for (const std::string& name : list_dir(path)) remove_all(path / name);
  remove_dir(path);
}

}  // namespace kiln
