#include "kiln/data/catalog_search.h"

#include <cstdlib>

#include "kiln/track/env.h"

namespace kiln::data {
namespace fs = std::filesystem;

CatalogLocations catalog_locations(const char* kiln_catalog, const fs::path& cwd) {
  CatalogLocations out;
  std::string list = kiln_catalog ? kiln_catalog : "";
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.files.push_back(fs::absolute(cwd / list.substr(start, end - start)).lexically_normal());
    start = end + 1;
  }
  if (out.files.empty()) {
    fs::path local = cwd / "data" / "catalog.yaml";
    out.write_target = local;
    std::error_code ec;
    if (fs::exists(local, ec)) out.files.push_back(local);
  } else {
    out.write_target = out.files.front();
  }
  return out;
}

CatalogLocations default_catalog_locations() {
  std::error_code ec;
  return catalog_locations(std::getenv("KILN_CATALOG"), fs::current_path(ec));
}

Catalog load_catalog_file(const fs::path& path, Env& env) {
  if (!env.exists(path)) return Catalog();
  // Catalogs are small; a huge file here is a mistake, not a catalog.
  Catalog parsed = Catalog::parse(env.read_file(path, 64u << 20), path.string());
  Catalog out;
  for (DatasetEntry entry : parsed.entries()) {
    for (DatasetSource& source : entry.sources) {
      if (source.url.find("://") == std::string::npos && !fs::path(source.url).is_absolute())
        source.url = (fs::absolute(path).parent_path() / source.url).lexically_normal().string();
    }
    out.add(std::move(entry));
  }
  return out;
}

Catalog load_catalogs(const CatalogLocations& locations, Env& env) {
  Catalog out;
  for (const fs::path& file : locations.files) out.add_all(load_catalog_file(file, env));
  if (locations.builtin) out.add_all(Catalog::parse(builtin_catalog_text(), kBuiltinCatalogOrigin));
  return out;
}

}  // namespace kiln::data
