// `kiln data add`: describe files by size and SHA-256 and write them into a
// catalog as a new dataset version.
//
// From a local directory every regular file below it (sorted; names
// starting with '.' and *.partial skipped) is hashed where it lies and the
// directory becomes the entry's source. From a local file, that file, with
// its directory as the source. From an http(s):// or s3:// URL, the files
// named in `files` under it are downloaded into the cache — so the first
// fetch costs nothing — and hashed there, and the URL is the source.
// Without `files`, an s3:// prefix is listed (every object below it, names
// starting with '.' skipped); otherwise the URL must name one file, and its
// directory becomes the source.
//
// Versions: `version` when given (replacing an entry of that version in the
// catalog written to); otherwise 1 for a new name, and for a known name the
// latest version when the files are identical to it (nothing is written),
// else the latest + 1.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/data/catalog.h"

namespace kiln {
class Env;
}

namespace kiln::data {

class DatasetCache;

struct AddOptions {
  std::string name;
  std::string from;  // a path, or an http(s):// or s3:// URL
  std::optional<std::int64_t> version;
  std::vector<std::string> files;  // URLs only: the files under it
  std::string format, description, license;
  std::string endpoint, region;  // s3 only, recorded in the source
};

struct AddResult {
  DatasetEntry entry;
  bool unchanged = false;  // identical to the latest version; nothing written
};

// Hashes and writes the entry into `catalog_file` (`known` is every catalog
// read, to find the latest version). Throws kiln::UsageError for bad
// options, kiln::IoError for unreadable files or failed downloads.
AddResult add_dataset(const AddOptions& options, const Catalog& known, const std::filesystem::path& catalog_file,
                      DatasetCache& cache, Env& env);

}  // namespace kiln::data
