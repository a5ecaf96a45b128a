// Listings and parameter help for the CLI.
#include "kiln/registry/help.h"

#include <algorithm>

#include "kiln/config/schema.h"

namespace kiln {

std::string format_factory_list(const AnyRegistry& registry) {
  std::vector<std::string> names = registry.names();
  if (names.empty()) return "  (none registered)\n";
  std::size_t width = 0;
  for (const auto& name : names) width = std::max(width, name.size());
  std::string out;
  for (const auto& name : names) {
    // A factory removed since names() was taken is simply left out.
    auto info = registry.info(name);
    if (!info) continue;
    std::string doc = info->doc();
    std::string line = "  " + name;
    if (!doc.empty()) line += std::string(width - name.size() + 2, ' ') + doc;
    out += line + "\n";
  }
  return out;
}

std::string format_catalog(const std::vector<const AnyRegistry*>& registries) {
  std::string out;
  for (const AnyRegistry* registry : registries) {
    if (!out.empty()) out += "\n";
    out += registry->kind() + ":\n" + format_factory_list(*registry);
  }
  return out;
}

std::string format_factory_help(const FactoryInfo& info, const config::Node* current, const config::KeyPath& at) {
  std::string out = info.kind + "=" + info.name;
  std::string doc = info.doc();
  if (!doc.empty()) out += ": " + doc;
  out += "\n";
  std::string table = config::format_help(info.params(current, at));
  return out + (table.empty() ? "  (no parameters)\n" : table);
}

}  // namespace kiln
