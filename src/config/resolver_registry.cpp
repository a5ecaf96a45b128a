// The process-wide resolver registry. Entries are shared_ptrs so a call can
// run outside the lock while another thread replaces the same name.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "kiln/config/error.h"
#include "kiln/config/resolver.h"
#include "resolver_builtins.h"

namespace kiln::config {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const ResolverFn>, std::less<>> resolvers;
};

Registry& registry() {
  // Built-ins are registered on first use, not by static initialisers, so
  // that their order relative to other translation units never matters.
  static Registry* instance = [] {
    auto* r = new Registry;
    for (auto& [name, fn] : builtin_resolvers()) r->resolvers[name] = std::make_shared<const ResolverFn>(std::move(fn));
    return r;
  }();
  return *instance;
}

bool valid_part(std::string_view part) {
  if (part.empty()) return false;
  char first = part[0];
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_')) return false;
  for (char c : part)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

bool valid_name(std::string_view name) {
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view part = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!valid_part(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::string ResolverContext::key_text() const { return format_key(key, &root); }

void ResolverContext::fail(const std::string& message, const std::string& hint) const {
  throw ConfigError(Diagnostic{key_text(), source, message, hint});
}

void register_resolver(const std::string& name, ResolverFn fn, bool replace) {
  if (!valid_name(name))
    throw kiln::Error("cannot register resolver '" + name +
                      "': a resolver name is identifiers (letters, digits, '_', '-', not starting with a digit or "
                      "'-') joined by '.'");
  if (!fn) throw kiln::Error("cannot register resolver '" + name + "': the function is empty");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.resolvers.find(name);
  if (it != r.resolvers.end() && !replace)
    throw kiln::Error("resolver '" + name + "' is already registered; pass replace=true to replace it");
  r.resolvers[name] = std::make_shared<const ResolverFn>(std::move(fn));
}

bool unregister_resolver(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.resolvers.erase(name) > 0;
}

bool has_resolver(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.resolvers.count(name) > 0;
}

std::vector<std::string> resolver_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  names.reserve(r.resolvers.size());
  for (const auto& [name, fn] : r.resolvers) names.push_back(name);
  return names;  // std::map keeps them sorted
}

std::optional<Node> call_resolver(const std::string& name, const std::vector<Node>& args,
                                  const ResolverContext& context) {
  std::shared_ptr<const ResolverFn> fn;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.resolvers.find(name);
    if (it == r.resolvers.end()) return std::nullopt;
    fn = it->second;
  }
  return (*fn)(args, context);
}

}  // namespace kiln::config
