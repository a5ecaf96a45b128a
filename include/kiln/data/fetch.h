// Fetching one file of a dataset from one source: a local directory (plain
// path or file://), an HTTP(S) server, or S3 (s3.h).
//
// The bytes go to a `.partial` file the caller names; the caller verifies
// size and SHA-256 and renames it into place (dataset_cache.h), so a file
// that is still arriving, or that arrived wrong, never has its final name.
// HTTP and S3 resume: bytes already in the partial file are not fetched
// again (a Range request); a server that ignores Range (200 instead of 206)
// restarts the file from the first byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "kiln/data/catalog.h"
#include "kiln/error.h"

namespace kiln {
class Env;
}

namespace kiln::data {

// A source could not deliver a file: unreachable, 404, 403, a short read.
// The message names the URL and the reason. Exit code 74.
class FetchError : public IoError {
 public:
  using IoError::IoError;
};

// True for a plain path or a file:// URL.
bool is_local_source(const DatasetSource& source);
// The directory a local source names (file:// stripped).
std::filesystem::path local_source_dir(const DatasetSource& source);
// True for the sources KILN_OFFLINE=1 may not use (http, https, s3).
bool is_network_source(const DatasetSource& source);

// Where file `relative` of `source` is, as users read it in messages:
// "/usr/share/x/a.gz", "https://host/dir/a.gz", "s3://bucket/prefix/a.gz".
std::string source_file_url(const DatasetSource& source, const std::string& relative);

struct FetchResult {
  std::uint64_t resumed_from = 0;  // bytes already in `partial` that were kept
  std::uint64_t received = 0;      // bytes received now
};

// Brings `partial` to the whole content of file `relative` of `source`
// (`expected_size` bytes by the catalog), resuming where it can. Throws
// FetchError, or kiln::IoError when `partial` cannot be written.
FetchResult fetch_file(const DatasetSource& source, const std::string& relative, const std::filesystem::path& partial,
                       std::uint64_t expected_size, Env& env);

}  // namespace kiln::data
