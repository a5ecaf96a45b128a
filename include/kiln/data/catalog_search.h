// Which catalog files kiln reads, and the one built into the binary.
//
// Catalogs are read in this order, the first that defines a (name, version)
// winning:
//   1. each file in $KILN_CATALOG (':'-separated), or, when it is unset,
//      ./data/catalog.yaml when it exists;
//   2. kiln's own catalog (data/catalog.yaml of the kiln sources, embedded in
//      the binary so Fashion-MNIST is found from any directory).
// `kiln data add` writes to the first file of step 1 (created if missing).
// A missing file in $KILN_CATALOG reads as an empty catalog, so
// KILN_CATALOG=new.yaml kiln data add ... starts a new one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/data/catalog.h"

namespace kiln {
class Env;
}

namespace kiln::data {

// How errors and entries name the built-in catalog.
inline constexpr const char* kBuiltinCatalogOrigin = "<kiln>/data/catalog.yaml";

struct CatalogLocations {
  std::vector<std::filesystem::path> files;  // read first, in order
  std::filesystem::path write_target;        // where `kiln data add` writes
  bool builtin = true;                       // read the built-in catalog last
};

// From the value of $KILN_CATALOG (nullptr or "" when unset) and the working
// directory.
CatalogLocations catalog_locations(const char* kiln_catalog, const std::filesystem::path& cwd);
// catalog_locations(getenv("KILN_CATALOG"), current directory).
CatalogLocations default_catalog_locations();

// The text of the catalog built into the binary.
std::string_view builtin_catalog_text();

// Reads and merges the catalogs. A relative plain-path source is taken
// relative to the directory of the catalog file that names it. Throws
// config::ConfigError for a bad catalog, kiln::IoError for an unreadable one.
Catalog load_catalogs(const CatalogLocations& locations, Env& env);
// Parses one catalog file (missing: empty) with the same path rule.
Catalog load_catalog_file(const std::filesystem::path& path, Env& env);

}  // namespace kiln::data
