#include "dataset_binding.h"

#include <filesystem>
#include <iostream>

#include "kiln/config/error.h"
#include "kiln/data/catalog_search.h"
#include "kiln/track/env.h"

namespace kiln::cli {
namespace fs = std::filesystem;

DatasetBinding bind_dataset(const config::Node& resolved, bool make_local) {
  DatasetBinding out{resolved, std::nullopt};
  config::Node* data = out.runnable.find("data");
  if (!data || !data->is_map()) return out;
  const config::Node* ref_node = data->find("dataset");
  const config::Node* catalog_node = data->find("catalog");
  if (!ref_node && !catalog_node) return out;
  config::Node ref = ref_node ? *ref_node : config::Node();
  config::Node catalog = catalog_node ? *catalog_node : config::Node();
  data->erase("dataset");
  data->erase("catalog");
  if (ref.is_null()) return out;
  if (!ref.is_string())
    throw config::ConfigError(config::Diagnostic{
        "data.dataset", ref.source(),
        std::string("expected a dataset reference NAME or NAME@VERSION, found ") + config::kind_name(ref.kind()), ""});
  if (!catalog.is_null() && !catalog.is_string())
    throw config::ConfigError(config::Diagnostic{
        "data.catalog", catalog.source(),
        std::string("expected the path of a catalog file, found ") + config::kind_name(catalog.kind()), ""});
  const config::Node* root = data->find("root");
  if (root && !root->is_null()) return out;  // an explicit root wins

  data::DatasetRef parsed;
  try {
    parsed = data::parse_dataset_ref(ref.as_string());
  } catch (const UsageError& e) {
    throw config::ConfigError(config::Diagnostic{"data.dataset", ref.source(), e.what(), ""});
  }
  data::CatalogLocations locations = data::default_catalog_locations();
  if (catalog.is_string()) {
    std::error_code ec;
    locations.files.insert(locations.files.begin(), fs::absolute(catalog.as_string(), ec));
  }
  data::Catalog known = data::load_catalogs(locations, Env::Default());
  if (std::optional<std::string> problem = known.lookup_error(parsed)) {
    std::string message = *problem, hint;
    if (std::size_t at = message.find("\n  hint: "); at != std::string::npos) {
      hint = message.substr(at + 9);
      message.resize(at);
    }
    throw config::ConfigError(config::Diagnostic{"data.dataset", ref.source(), message, hint});
  }
  const data::DatasetEntry& entry = known.resolve(parsed);
  data::CacheOptions options;
  options.offline = data::offline_from_environment();
  options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  data::DatasetCache cache(options);
  if (!make_local) {
    data->set("root", config::Node::string(cache.dataset_dir(entry).string(), ref.source()));
    return out;
  }
  BoundDataset bound{entry.ref(), entry.catalog, cache.ensure(entry)};
  data->set("root", config::Node::string(bound.local.root.string(), ref.source()));
  out.dataset = std::move(bound);
  return out;
}

track::JsonValue dataset_json(const BoundDataset& dataset) {
  using track::JsonValue;
  JsonValue out = JsonValue::object();
  out.set("ref", JsonValue::string(dataset.ref));
  out.set("name", JsonValue::string(dataset.local.name));
  out.set("version", JsonValue::number(dataset.local.version));
  out.set("catalog", JsonValue::string(dataset.catalog));
  out.set("root", JsonValue::string(dataset.local.root.string()));
  out.set("in_place", JsonValue::boolean(dataset.local.in_place));
  JsonValue files = JsonValue::array();
  for (const auto& f : dataset.local.files) {
    JsonValue file = JsonValue::object();
    file.set("path", JsonValue::string(f.path));
    file.set("size", JsonValue::number(f.size));
    file.set("sha256", JsonValue::string(f.sha256));
    files.push_back(std::move(file));
  }
  out.set("files", std::move(files));
  return out;
}

std::map<std::string, std::string> known_hashes(const BoundDataset& dataset) {
  std::map<std::string, std::string> out;
  for (const auto& f : dataset.local.files) out[fs::absolute(f.local).lexically_normal().string()] = f.sha256;
  return out;
}

}  // namespace kiln::cli
