#include "kiln/data/dataset_add.h"

#include <algorithm>
#include <functional>

#include "kiln/data/catalog_writer.h"
#include "kiln/data/dataset_cache.h"
#include "kiln/data/fetch.h"
#include "kiln/data/s3.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/sha256.h"

namespace kiln::data {
namespace fs = std::filesystem;
namespace {

bool is_url(const std::string& s) { return s.find("://") != std::string::npos && !s.starts_with("file://"); }

// Regular files under `dir`, relative, '/'-separated, sorted.
void list_files(Env& env, const fs::path& dir, const std::string& prefix, std::vector<std::string>& out) {
  for (const std::string& name : env.list_dir(dir)) {
    if (name.starts_with(".") || name.ends_with(".partial")) continue;
    fs::path full = dir / name;
    std::optional<FileInfo> info = env.stat(full);
    if (!info) continue;
    if (info->is_directory)
      list_files(env, full, prefix + name + "/", out);
    else
      out.push_back(prefix + name);
  }
}

void describe_local(const AddOptions& o, DatasetEntry& entry, Env& env) {
  fs::path from = fs::absolute(o.from.starts_with("file://") ? o.from.substr(7) : o.from).lexically_normal();
  std::optional<FileInfo> info = env.stat(from);
  if (!info) throw IoError("kiln data add: '" + from.string() + "' does not exist");
  if (!o.files.empty()) throw UsageError("kiln data add: --files goes with a URL; a directory is read whole");
  fs::path root = info->is_directory ? from : from.parent_path();
  std::vector<std::string> files;
  if (info->is_directory)
    list_files(env, from, "", files);
  else
    files.push_back(from.filename().string());
  if (files.empty()) throw UsageError("kiln data add: '" + from.string() + "' holds no files");
  entry.sources.push_back(DatasetSource{root.string(), "", "", {}});
  for (const std::string& f : files)
    entry.files.push_back(CatalogFile{f, env.file_size(root / f), sha256_file_hex(root / f, env)});
}

// The files under an s3:// prefix, relative to it ("" when there are none).
std::vector<std::string> list_s3_prefix(const AddOptions& o, std::string& base) {
  while (base.ends_with("/")) base.pop_back();
  S3Location prefix = parse_s3_url(base + "/");
  std::vector<std::string> out;
  for (const S3Object& object : s3_list_objects(s3_config_from_environment(o.endpoint, o.region), prefix)) {
    std::string relative = object.key.substr(prefix.key.size());
    bool hidden = relative.starts_with(".") || relative.find("/.") != std::string::npos;
    if (!relative.empty() && !relative.ends_with("/") && !hidden) out.push_back(relative);
  }
  return out;
}

void describe_remote(const AddOptions& o, DatasetEntry& entry, DatasetCache& cache, Env& env) {
  std::string base = o.from;
  std::vector<std::string> files = o.files;
  if (files.empty() && o.from.starts_with("s3://")) files = list_s3_prefix(o, base);
  if (files.empty()) {
    base = o.from;
    std::size_t slash = base.rfind('/');
    if (slash == std::string::npos || slash + 1 == base.size() || base.find("://") + 2 >= slash)
      throw UsageError("kiln data add: '" + o.from +
                       "' names no file; list the files under it with --files a.bin,dir/b.bin");
    files.push_back(base.substr(slash + 1));
    base = base.substr(0, slash);
  }
  entry.sources.push_back(DatasetSource{base, o.endpoint, o.region, {}});
  fs::path dir = cache.dataset_dir(entry);
  env.create_dirs(dir);
  for (const std::string& f : files) {
    fs::path final_path = dir / f;
    fs::path partial = final_path;
    partial += ".partial";
    env.create_dirs(partial.parent_path());
    fetch_file(entry.sources[0], f, partial, UINT64_MAX, env);
    CatalogFile file{f, env.file_size(partial), sha256_file_hex(partial, env)};
    env.rename(partial, final_path);
    entry.files.push_back(file);
  }
}

bool same_files(const DatasetEntry& a, const DatasetEntry& b) {
  if (a.files.size() != b.files.size()) return false;
  for (std::size_t i = 0; i < a.files.size(); ++i)
    if (a.files[i].path != b.files[i].path || a.files[i].sha256 != b.files[i].sha256) return false;
  return true;
}

}  // namespace

AddResult add_dataset(const AddOptions& o, const Catalog& known, const fs::path& catalog_file, DatasetCache& cache,
                      Env& env) {
  if (!is_valid_dataset_name(o.name))
    throw UsageError("kiln data add: '" + o.name +
                     "' is not a dataset name (lowercase letters, digits, '_', '-', '.'; starting with a letter or "
                     "digit)");
  if (o.version && *o.version < 1)
    throw UsageError("kiln data add: --version must be >= 1, found " + std::to_string(*o.version));
  if (o.from.empty()) throw UsageError("kiln data add: --from PATH_OR_URL is required");
  if ((!o.endpoint.empty() || !o.region.empty()) && !o.from.starts_with("s3://"))
    throw UsageError("kiln data add: --endpoint and --region go with an s3:// URL");

  const DatasetEntry* latest = known.latest(o.name);
  AddResult result;
  DatasetEntry& entry = result.entry;
  entry.name = o.name;
  // A download needs the version for its cache directory; a later
  // "unchanged" answer then points at the same files.
  entry.version = o.version ? *o.version : latest ? latest->version + 1 : 1;
  entry.format = o.format;
  entry.description = o.description;
  entry.license = o.license;
  entry.catalog = catalog_file.string();
  if (is_url(o.from))
    describe_remote(o, entry, cache, env);
  else
    describe_local(o, entry, env);

  if (!o.version && latest && same_files(*latest, entry)) {
    if (is_url(o.from)) env.remove_all(cache.dataset_dir(entry));  // the download lives under latest's name
    result.entry = *latest;
    result.unchanged = true;
    return result;
  }
  write_catalog_entry(catalog_file, entry, env);
  return result;
}

}  // namespace kiln::data
