// The list of kinds whose process-wide registry exists.
#include <algorithm>
#include <mutex>

#include "kiln/error.h"
#include "kiln/registry/kind.h"

namespace kiln {
namespace {

struct Catalog {
  std::mutex mutex;
  std::vector<const AnyRegistry*> registries;  // sorted by kind name
};

Catalog& catalog() {
  // Leaked, like the registries it lists: static initialisers of any
  // translation unit may add to it, and it must outlive them all.
  static Catalog* instance = new Catalog;
  return *instance;
}

bool by_kind(const AnyRegistry* a, const AnyRegistry* b) { return a->kind() < b->kind(); }

}  // namespace

namespace registry_detail {

void add_kind(const AnyRegistry* registry) {
  Catalog& c = catalog();
  std::lock_guard lock(c.mutex);
  auto it = std::lower_bound(c.registries.begin(), c.registries.end(), registry, by_kind);
  if (it != c.registries.end() && (*it)->kind() == registry->kind())
    throw kiln::Error("two kinds are named '" + registry->kind() +
                      "': give each KILN_DEFINE_KIND its own name so messages and listings can tell them apart");
  c.registries.insert(it, registry);
}

}  // namespace registry_detail

std::vector<const AnyRegistry*> kinds() {
  Catalog& c = catalog();
  std::lock_guard lock(c.mutex);
  return c.registries;
}

const AnyRegistry* find_kind(std::string_view kind) {
  Catalog& c = catalog();
  std::lock_guard lock(c.mutex);
  for (const AnyRegistry* r : c.registries)
    if (r->kind() == kind) return r;
  return nullptr;
}

}  // namespace kiln
