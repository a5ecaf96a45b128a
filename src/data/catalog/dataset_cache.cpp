// The cache's decisions (docs/data-catalog.md, "The cache"): use what is
// verified, in place when it is local, fetch the rest into .partial files.
#include "kiln/data/dataset_cache.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "kiln/data/fetch.h"
#include "kiln/data/filesystem_check.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"
#include "verification_stamps.h"

namespace kiln::data {
namespace fs = std::filesystem;
using detail::VerificationStamps;

namespace {

constexpr const char* kStampFile = ".kiln-verified.json";

// An exclusive flock(2) held for the object's life; nothing when the lock
// file cannot be created (a read-only cache is read without locking).
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

std::string env_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

const char* file_state_name(FileState state) {
  switch (state) {
    case FileState::kOk: return "ok";
    case FileState::kMissing: return "missing";
    case FileState::kWrongSize: return "wrong size";
    case FileState::kWrongHash: return "wrong hash";
  }
  return "?";
}

bool VerifyReport::ok() const {
  for (const auto& f : files)
    if (f.state != FileState::kOk) return false;
  return !files.empty();
}

fs::path default_cache_dir() {
  if (std::string dir = env_value("KILN_CACHE_DIR"); !dir.empty()) return fs::absolute(dir);
  if (std::string xdg = env_value("XDG_CACHE_HOME"); !xdg.empty()) return fs::path(xdg) / "kiln";
  if (std::string home = env_value("HOME"); !home.empty()) return fs::path(home) / ".cache" / "kiln";
  // Batch systems sometimes start jobs without HOME; the password file still knows it.
  if (const passwd* user = ::getpwuid(::getuid()); user && user->pw_dir && *user->pw_dir)
    return fs::path(user->pw_dir) / ".cache" / "kiln";
  throw UsageError("kiln has no dataset cache directory: set KILN_CACHE_DIR (or HOME)");
}

bool offline_from_environment() {
  std::string v = env_value("KILN_OFFLINE");
  return !v.empty() && v != "0" && v != "false";
}

DatasetCache::DatasetCache(CacheOptions options) : DatasetCache(std::move(options), Env::Default()) {}

DatasetCache::DatasetCache(CacheOptions options, Env& env) : options_(std::move(options)), env_(&env) {
  if (options_.root.empty()) options_.root = default_cache_dir();
}

fs::path DatasetCache::dataset_dir(const DatasetEntry& entry) const {
  return options_.root / "datasets" / entry.name / std::to_string(entry.version);
}

namespace {

struct Checker {
  Env& env;
  VerificationStamps& stamps;
  bool trust_stamps;
  bool hash = true;  // false: stamps only; an unstamped file is reported kWrongHash
  std::uint64_t hashed = 0;

  FileCheck check(const CatalogFile& file, const fs::path& local) {
    FileCheck out{file.path, local, FileState::kMissing, 0, ""};
    std::optional<FileInfo> info = env.stat(local);
    if (!info || info->is_directory) return out;
    out.size = info->size;
    if (info->size != file.size) {
      out.state = FileState::kWrongSize;
      return out;
    }
    if (trust_stamps && stamps.vouches(local, *info, file.sha256)) {
      out.state = FileState::kOk;
      out.sha256 = file.sha256;
      return out;
    }
    if (!hash) {
      out.state = FileState::kWrongHash;
      return out;
    }
    out.sha256 = sha256_file_hex(local, env);
    hashed += info->size;
    out.state = out.sha256 == file.sha256 ? FileState::kOk : FileState::kWrongHash;
    if (out.state == FileState::kOk)
      stamps.record(local, *info, out.sha256);
    else
      stamps.forget(local);
    return out;
  }

  std::vector<FileCheck> check_all(const DatasetEntry& entry, const fs::path& root) {
    std::vector<FileCheck> out;
    for (const auto& file : entry.files) out.push_back(check(file, root / file.path));
    return out;
  }
};

bool all_ok(const std::vector<FileCheck>& checks) {
  for (const auto& c : checks)
    if (c.state != FileState::kOk) return false;
  return true;
}

// Every file is there with its catalog size (cheap: stat only).
bool all_present(const DatasetEntry& entry, const fs::path& root, Env& env) {
  for (const auto& file : entry.files) {
    std::optional<FileInfo> info = env.stat(root / file.path);
    if (!info || info->is_directory || info->size != file.size) return false;
  }
  return true;
}

LocalDataset local_dataset(const DatasetEntry& entry, const fs::path& root, bool in_place, std::string source) {
  LocalDataset out{entry.name, entry.version, root, in_place, std::move(source), {}, 0, 0};
  for (const auto& file : entry.files)
    out.files.push_back(LocalFile{file.path, root / file.path, file.size, file.sha256});
  return out;
}

std::string mismatch_line(const DatasetEntry& entry, const FileCheck& check, const CatalogFile& file) {
  std::string where = check.local.string();
  if (check.state == FileState::kWrongSize)
    return where + ": expected " + std::to_string(file.size) + " bytes (catalog " + entry.where.str() + "), found " +
           std::to_string(check.size);
  return where + ": SHA-256 mismatch: the catalog (" + entry.where.str() + ") expects " + file.sha256 +
         ", the file has " + check.sha256;
}

bool local_filesystem(const fs::path& dir) {
  std::optional<std::uint64_t> magic = filesystem_magic(dir);
  return !magic || !classify_filesystem_magic(*magic).network;
}

}  // namespace

std::optional<LocalDataset> DatasetCache::find_local(const DatasetEntry& entry) {
  fs::path dir = dataset_dir(entry);
  VerificationStamps stamps = VerificationStamps::load(dir / kStampFile, *env_);
  Checker checker{*env_, stamps, true, false};
  if (all_ok(checker.check_all(entry, dir))) return local_dataset(entry, dir, false, "");
  for (const auto& source : entry.sources) {
    if (!is_local_source(source)) continue;
    fs::path root = local_source_dir(source);
    if (all_ok(checker.check_all(entry, root))) return local_dataset(entry, root, true, source.url);
  }
  return std::nullopt;
}

VerifyReport DatasetCache::verify(const DatasetEntry& entry) {
  fs::path dir = dataset_dir(entry);
  VerificationStamps stamps = VerificationStamps::load(dir / kStampFile, *env_);
  fs::path root = dir;
  bool in_place = false;
  bool cache_has_any = false;
  for (const auto& file : entry.files) cache_has_any = cache_has_any || env_->exists(dir / file.path);
  if (!cache_has_any) {
    for (const auto& source : entry.sources) {
      if (is_local_source(source) && all_present(entry, local_source_dir(source), *env_)) {
        root = local_source_dir(source);
        in_place = true;
        break;
      }
    }
  }
  Checker checker{*env_, stamps, false};
  VerifyReport report{root, in_place, checker.check_all(entry, root)};
  if (env_->exists(dir)) stamps.save(*env_);
  return report;
}

LocalDataset DatasetCache::ensure(const DatasetEntry& entry) {
  auto progress = [&](const std::string& line) {
    if (options_.progress) options_.progress(line);
  };
  fs::path dir = dataset_dir(entry);
  bool writable = true;
  try {
    env_->create_dirs(dir);
  } catch (const IoError&) {
    writable = false;
  }
  DirectoryLock lock(dir.parent_path() / (std::to_string(entry.version) + ".lock"));
  VerificationStamps stamps = VerificationStamps::load(dir / kStampFile, *env_);
  Checker checker{*env_, stamps, true};
  std::vector<std::string> problems;

  // 1. The cache.
  std::vector<FileCheck> cached = checker.check_all(entry, dir);
  if (all_ok(cached)) {
    warn_if_network_filesystem(options_.root, "the dataset cache");
    if (checker.hashed) stamps.save(*env_);
    LocalDataset out = local_dataset(entry, dir, false, "");
    out.hashed_bytes = checker.hashed;
    return out;
  }

  // 2. A local source, in place.
  for (const auto& source : entry.sources) {
    if (!is_local_source(source)) continue;
    fs::path root = local_source_dir(source);
    if (!all_present(entry, root, *env_)) continue;
    if (!local_filesystem(root)) {
      warn_if_network_filesystem(root, "the source");
      progress("kiln: " + entry.ref() + ": copying from '" + root.string() +
               "' into the cache, because it is on a network file system");
      continue;
    }
    std::vector<FileCheck> checks = checker.check_all(entry, root);
    if (all_ok(checks)) {
      if (checker.hashed) stamps.save(*env_);
      LocalDataset out = local_dataset(entry, root, true, source.url);
      out.hashed_bytes = checker.hashed;
      return out;
    }
    for (std::size_t i = 0; i < checks.size(); ++i)
      if (checks[i].state != FileState::kOk) problems.push_back(mismatch_line(entry, checks[i], entry.files[i]));
  }

  // 3. Fetch what the cache lacks.
  if (!writable) {
    env_->create_dirs(dir);  // throws the IoError that says why
  }
  warn_if_network_filesystem(options_.root, "the dataset cache");
  std::vector<bool> done(entry.files.size());
  for (std::size_t i = 0; i < cached.size(); ++i) {
    done[i] = cached[i].state == FileState::kOk;
    // A cached file that does not verify is not kept under its name.
    if (cached[i].state == FileState::kWrongSize || cached[i].state == FileState::kWrongHash) {
      progress("kiln: " + mismatch_line(entry, cached[i], entry.files[i]) + "; removing it and fetching again");
      env_->remove_file(cached[i].local);
    }
  }
  LocalDataset out = local_dataset(entry, dir, false, "");
  std::vector<std::string> skipped;
  for (const auto& source : entry.sources) {
    if (options_.offline && is_network_source(source)) {
      skipped.push_back(source.url);
      continue;
    }
    bool source_failed = false;
    for (std::size_t i = 0; i < entry.files.size() && !source_failed; ++i) {
      if (done[i]) continue;
      const CatalogFile& file = entry.files[i];
      fs::path final_path = dir / file.path;
      fs::path partial = final_path;
      partial += ".partial";
      env_->create_dirs(partial.parent_path());
      for (int attempt = 0; attempt < 2; ++attempt) {
        FetchResult fetched;
        std::string url = source_file_url(source, file.path);
        progress("kiln: fetching " + entry.ref() + " " + file.path + " (" + std::to_string(file.size) +
                 " bytes) from " + url);
        try {
          fetched = fetch_file(source, file.path, partial, file.size, *env_);
        } catch (const FetchError& e) {
          problems.push_back(e.what());
          source_failed = true;
          break;
        }
        if (fetched.resumed_from > 0)
          progress("kiln: resumed " + file.path + " at byte " + std::to_string(fetched.resumed_from));
        out.fetched_bytes += fetched.received;
        FileCheck check = checker.check(file, partial);
        if (check.state == FileState::kOk) {
          env_->rename(partial, final_path);
          env_->sync_dir(final_path.parent_path());
          if (std::optional<FileInfo> info = env_->stat(final_path)) stamps.record(final_path, *info, file.sha256);
          stamps.forget(partial);
          done[i] = true;
          break;
        }
        // Wrong bytes are deleted, never renamed into place.
        env_->remove_file(partial);
        stamps.forget(partial);
        std::string line = mismatch_line(entry, check, file);
        line.replace(0, partial.string().size(), url);
        if (fetched.resumed_from > 0 && attempt == 0) {
          progress("kiln: " + line + "; the resumed download was bad, fetching it again from the start");
          continue;
        }
        problems.push_back(line + " (the download was deleted)");
        source_failed = true;
        break;
      }
    }
    bool complete = std::find(done.begin(), done.end(), false) == done.end();
    if (complete) {
      stamps.save(*env_);
      out.source = source.url;
      out.hashed_bytes = checker.hashed;
      return out;
    }
  }

  std::string message = "cannot make dataset " + entry.ref() + " (" + entry.catalog + ") local: missing ";
  std::size_t missing = std::count(done.begin(), done.end(), false);
  message += std::to_string(missing) + " of " + std::to_string(entry.files.size()) + " files in " + dir.string() + ":";
  for (std::size_t i = 0; i < entry.files.size(); ++i)
    if (!done[i]) message += "\n  " + entry.files[i].path;
  for (const auto& p : problems) message += "\n  " + p;
  if (!skipped.empty()) {
    message += "\n  offline (KILN_OFFLINE=" + env_value("KILN_OFFLINE") + "): not trying";
    for (const auto& s : skipped) message += " " + s;
    message += "\n  hint: run `kiln data fetch " + entry.ref() + "` with network access, or unset KILN_OFFLINE";
  }
  throw IoError(message);
}

}  // namespace kiln::data
