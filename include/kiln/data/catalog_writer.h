// Writing catalog entries without disturbing the rest of the file.
//
// `kiln data add` changes one entry of a catalog that people also edit by
// hand, so the file is edited as text: the entry's own lines are replaced
// (or a new entry appended after the last one) and every other byte —
// other entries, comments, blank lines, flow or block style — stays as it
// was. The result is parsed again and compared with the original entries
// before anything is written, and it is written atomically (temporary file,
// fsync, rename), so a crash leaves the old catalog or the new one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "kiln/data/catalog.h"

namespace kiln {
class Env;
}

namespace kiln::data {

// `entry` as a block-style list item whose '-' is at column `indent` (0-based).
std::string format_catalog_entry(const DatasetEntry& entry, int indent = 2);

// `text` (a catalog's contents, "" for a new catalog) with `entry` added, or
// replacing the entry of the same (name, version). Throws
// config::ConfigError when `text` is not a valid catalog (nothing is
// changed then), kiln::Error if the edit would change another entry (a bug).
std::string upsert_catalog_entry(std::string_view text, const DatasetEntry& entry, const std::string& origin);

// upsert_catalog_entry on the file at `path` (created, with its directory,
// when missing), written atomically through `env`.
void write_catalog_entry(const std::filesystem::path& path, const DatasetEntry& entry, Env& env);

}  // namespace kiln::data
