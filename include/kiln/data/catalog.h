// The dataset catalog: named, versioned datasets and where to get them.
//
// A catalog is a YAML file (docs/data-catalog.md has the format):
//
//   kiln_catalog: 1
//   datasets:
//     - name: fashion_mnist
//       version: 1
//       format: idx
//       description: Zalando's Fashion-MNIST, 70k 28x28 grey images in 10 classes
//       license: MIT
//       sources:
//         - /usr/share/datasets/fashion-mnist            # plain path or file://
//         - https://example.org/fashion-mnist/           # http(s)://
//         - {url: s3://bucket/prefix, endpoint: http://127.0.0.1:9000, region: eu-west-1}
//       files:
//         - {path: train-images-idx3-ubyte.gz, size: 26421856, sha256: b0564c3e...}
//
// A dataset is identified by (name, version); its content is the list of
// files with their sizes and SHA-256, so two runs that name the same
// `name@version` and pass verification read the same bytes. Sources are
// tried in order; each holds every file at `<source>/<path>`.
//
// Parsing is strict: an unknown key, a missing field, a wrong type, a bad
// name, a duplicated (name, version) or file path, or a path that leaves the
// dataset directory is a config::ConfigError naming file:line:column, the key
// path (`datasets[0].files[2].sha256`) and what was expected. All problems of
// one file are reported together.
//
// Thread safety: a Catalog is a value; const methods may be called from any
// number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/source.h"

namespace kiln::data {

// The catalog format's version (`kiln_catalog:`); a newer one is refused.
inline constexpr std::int64_t kCatalogFormatVersion = 1;

struct CatalogFile {
  std::string path;  // relative, '/'-separated, no '.', '..' or empty segments
  std::uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
};

struct DatasetSource {
  std::string url;       // "/abs/dir", "file:///abs/dir", "http(s)://host/dir", "s3://bucket/prefix"
  std::string endpoint;  // s3 only: "http://127.0.0.1:9000" (overrides AWS_ENDPOINT_URL); may be empty
  std::string region;    // s3 only: overrides AWS_REGION; may be empty
  config::Source where;  // where the source was written
};

struct DatasetEntry {
  std::string name;          // [a-z0-9_.-], starting with a letter or digit
  std::int64_t version = 0;  // >= 1
  std::string format;        // free-form tag readers look at: "idx", "csv", "webdataset", ...
  std::string description;
  std::string license;
  std::vector<DatasetSource> sources;  // at least one
  std::vector<CatalogFile> files;      // at least one, paths unique
  std::string catalog;                 // the catalog file it was read from
  config::Source where;                // the entry's position in that file

  // "name@version".
  std::string ref() const;
  std::uint64_t total_size() const;
};

// A reference as users write it: "fashion_mnist@1", or "fashion_mnist" for
// the latest version.
struct DatasetRef {
  std::string name;
  std::optional<std::int64_t> version;  // nullopt: the latest

  // "name@version" or "name".
  std::string str() const;
};

// Parses "name" or "name@N" (N >= 1). Throws kiln::UsageError naming the
// text and the expected form.
DatasetRef parse_dataset_ref(std::string_view text);

// True for a valid dataset name (see DatasetEntry::name).
bool is_valid_dataset_name(std::string_view name);

class Catalog {
 public:
  Catalog() = default;

  // Parses a catalog file's text; `origin` names it in errors and becomes
  // each entry's `catalog`. Throws config::ConfigError with every problem.
  static Catalog parse(std::string_view text, const std::string& origin);

  // Adds `entry` unless this catalog has its (name, version) already: the
  // entry added first wins. Returns whether it was added.
  bool add(DatasetEntry entry);
  // add() of every entry of `other`, in order.
  void add_all(const Catalog& other);

  const std::vector<DatasetEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const DatasetEntry* find(std::string_view name, std::int64_t version) const;
  // The highest version of `name`, or nullptr.
  const DatasetEntry* latest(std::string_view name) const;
  // Every dataset name, sorted, once each.
  std::vector<std::string> names() const;

  // The entry `ref` names. Throws kiln::UsageError (exit code 2) for an
  // unknown name (with "did you mean") or version (listing the versions).
  const DatasetEntry& resolve(const DatasetRef& ref) const;
  // nullopt when `ref` names an entry, else the message resolve() throws.
  std::optional<std::string> lookup_error(const DatasetRef& ref) const;

 private:
  std::vector<DatasetEntry> entries_;  // in file order, catalogs in the order added
};

}  // namespace kiln::data
