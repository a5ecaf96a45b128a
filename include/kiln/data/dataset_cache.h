// The local dataset cache: every file of a catalog entry, verified.
//
// Layout: <cache>/datasets/<name>/<version>/<files>, where <cache> is
// $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln, else ~/.cache/kiln.
//
// ensure() makes a dataset local and verified:
//   1. files already in the cache with a matching verification stamp (size
//      and mtime recorded when their SHA-256 was last checked) are used as
//      they are; others are re-hashed;
//   2. else a local source (plain path, file://) holding every file is used
//      in place, without copying, when its files verify and it is on a local
//      file system (Debian's /usr/share/datasets/fashion-mnist is read where
//      it lies);
//   3. else the missing files are fetched, sources in order, each into
//      `<file>.partial` (resumed when a previous fetch stopped), checked for
//      size and SHA-256, and only then renamed to their name. A file whose
//      hash does not match is deleted and the next source is tried; when no
//      source delivers, the error names every file, source and both hashes.
// With `offline` (KILN_OFFLINE=1) step 3 uses no network source, and the
// error says which files are missing and that offline mode is on.
//
// Stamps live in <cache>/datasets/<name>/<version>/.kiln-verified.json
// (also for sources used in place), so a run re-hashes nothing it has
// verified before, while an edited or replaced file (new size or mtime) is
// hashed again. Concurrent ensure() calls for one dataset, from threads or
// processes (ranks of one job), serialize on a lock file next to it.
//
// Thread safety: a DatasetCache may be used from several threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kiln/data/catalog.h"

namespace kiln {
class Env;
}

namespace kiln::data {

// $KILN_CACHE_DIR, $XDG_CACHE_HOME/kiln, $HOME/.cache/kiln (HOME from the
// password file when unset); throws kiln::UsageError when there is none.
std::filesystem::path default_cache_dir();
// True when $KILN_OFFLINE is set to something other than "", "0" or "false".
bool offline_from_environment();

struct CacheOptions {
  std::filesystem::path root;  // the cache directory; default_cache_dir() when empty
  bool offline = false;        // use no http(s)/s3 source (KILN_OFFLINE=1)
  // Status lines ("fetching a.gz from https://..."), for the CLI's stderr; may be empty.
  std::function<void(const std::string&)> progress;
};

struct LocalFile {
  std::string path;             // as in the catalog
  std::filesystem::path local;  // where it is now
  std::uint64_t size = 0;
  std::string sha256;
};

struct LocalDataset {
  std::string name;
  std::int64_t version = 0;
  std::filesystem::path root;  // the directory holding the files
  bool in_place = false;       // root is a source's directory, not the cache
  std::string source;          // the source fetched from or used in place; "" when all was cached
  std::vector<LocalFile> files;
  std::uint64_t fetched_bytes = 0;  // received over the network or copied now
  std::uint64_t hashed_bytes = 0;   // hashed now (0 when the stamps vouched for everything)
};

enum class FileState { kOk, kMissing, kWrongSize, kWrongHash };
const char* file_state_name(FileState state);  // "ok", "missing", "wrong size", "wrong hash"

struct FileCheck {
  std::string path;
  std::filesystem::path local;
  FileState state = FileState::kMissing;
  std::uint64_t size = 0;  // found (0 when missing)
  std::string sha256;      // found (empty unless hashed)
};

struct VerifyReport {
  std::filesystem::path root;  // where the files were looked for
  bool in_place = false;
  std::vector<FileCheck> files;
  bool ok() const;
};

class DatasetCache {
 public:
  explicit DatasetCache(CacheOptions options = {});
  DatasetCache(CacheOptions options, Env& env);

  const std::filesystem::path& root() const { return options_.root; }
  // <cache>/datasets/<name>/<version>
  std::filesystem::path dataset_dir(const DatasetEntry& entry) const;

  // Makes every file of `entry` local and verified (see above). Throws
  // kiln::IoError (exit code 74) when it cannot.
  LocalDataset ensure(const DatasetEntry& entry);

  // Where `entry` is now, by the stamps alone (no hashing, no fetching):
  // the cache, or a local source used in place; nullopt when neither is
  // complete and stamped.
  std::optional<LocalDataset> find_local(const DatasetEntry& entry);

  // Re-hashes the files of `entry` where they are (the cache when it has
  // any of them, else the first local source that has them all) and records
  // stamps for those that match. Never fetches.
  VerifyReport verify(const DatasetEntry& entry);

 private:
  CacheOptions options_;
  Env* env_;
};

}  // namespace kiln::data
