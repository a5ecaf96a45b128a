// How failures of a factory call reach the user, with the config that made it.
#include "kiln/registry/partial.h"

#include "kiln/config/schema_codec.h"

namespace kiln::registry_detail {
namespace {

// "optimizer 'adamw' at optimizer" / "optimizer 'adamw'" at the root.
std::string what_failed(const BoundFrom& from) {
  std::string out = from.kind + " '" + from.target + "'";
  if (!from.key.empty()) out += " at " + from.key;
  return out;
}

}  // namespace

void throw_invalid_param(const BoundFrom& from, const InvalidParam& error) {
  const config::Node* value =
      from.config.is_map() && !error.param().empty() ? from.config.find(error.param()) : nullptr;
  config::Source source = value ? value->source() : from.config.source();
  std::string key = error.param().empty() ? from.key : config::schema_detail::child_key(from.key, error.param());
  throw config::ConfigError(config::Diagnostic{key, source, error.what(), error.hint()});
}

void throw_factory_failed(const BoundFrom& from, const std::string& what) {
  throw kiln::Error(what_failed(from) + ": the factory failed: " + what);
}

void throw_null_product(const BoundFrom& from) {
  throw kiln::Error(what_failed(from) + ": the factory returned null (a bug in the factory)");
}

void throw_empty_partial() { throw kiln::Error("called an empty kiln::Partial (a bug: it was never bound)"); }

}  // namespace kiln::registry_detail
