// Merging a configured nested node over the field's C++ default.
#include "kiln/registry/instance.h"

#include "kiln/config/merge.h"

namespace kiln::registry_detail {

config::Node over_default(const config::Node& default_config, const config::Node& node, const std::string& key,
                          config::Diagnostics& diags) {
  if (!default_config.is_map() || !node.is_map()) return node;
  const config::Node* default_target = default_config.find(kTargetKey);
  const config::Node* target = node.find(kTargetKey);
  // Another factory's parameters would not fit the new one: replace.
  if (target && !(default_target && *default_target == *target)) return node;
  config::Node out = default_config;
  const std::size_t before = diags.size();
  diags.collect([&] { config::merge_into(out, node, config::parse_key(key)); });
  if (diags.size() != before) return node;
  out.set_source(node.source());
  return out;
}

}  // namespace kiln::registry_detail
