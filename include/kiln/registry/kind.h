// Kinds: the process-wide registry of each product type.
//
// A layer that defines a kind of product declares it once, at global
// namespace scope, in a header its users include:
//
//   KILN_DEFINE_KIND(Model, "model");                          // built from config alone
//   KILN_DEFINE_KIND(Optimizer, "optimizer", Params);          // factories also get Params
//   KILN_DEFINE_KIND(Scheduler, "scheduler", Optimizer&);
//
// Then kiln::registry<Optimizer>() is that kind's one registry, a
// kiln::Registry<Optimizer, Params> named "optimizer": the one KILN_REGISTER
// adds to (registrar.h), kiln::Instance<Optimizer> fields bind with
// (instance.h), and kinds() lists for help and completion. Each kind is its
// own C++ type: when two kinds would build the same class (losses and
// metrics both torch modules), give each its own base or wrapper type.
//
// The registry is created on first use, so registrations made by static
// initialisers in any translation unit never run before it exists, and it
// is never destroyed, so nothing depends on destruction order at exit.
// kinds() lists the kinds whose registry has been used (in practice: every
// kind with a registered factory).
//
// Thread safety: registry<P>() is safe from any thread (a function-local
// static); kinds() and find_kind() lock the list. See registry.h for the
// registries themselves.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/registry/registry.h"

namespace kiln {

// Specialised by KILN_DEFINE_KIND; the primary template means "not a kind".
template <class Product>
struct KindTraits {
  static constexpr bool kDeclared = false;
};

// Declares the kind of `Product`: its name in messages and the types of the
// runtime arguments its factories take (none, one or more). Use at global
// namespace scope, once per product type.
#define KILN_DEFINE_KIND(Product, kind_name, ...)                          \
  template <>                                                              \
  struct kiln::KindTraits<Product> {                                       \
    static constexpr bool kDeclared = true;                                \
    static constexpr const char* kName = kind_name;                        \
    using Registry = ::kiln::Registry<Product __VA_OPT__(, ) __VA_ARGS__>; \
  }

template <class Product>
using RegistryOf = typename KindTraits<Product>::Registry;

namespace registry_detail {
// Adds a kind's registry to the list kinds() returns. Throws kiln::Error
// when another registry already has that kind name.
void add_kind(const AnyRegistry* registry);
}  // namespace registry_detail

// The process-wide registry of `Product`'s kind.
template <class Product>
RegistryOf<Product>& registry() {
  static_assert(KindTraits<Product>::kDeclared,
                "not a kind: declare it with KILN_DEFINE_KIND(Product, \"name\", RuntimeArgs...)");
  // Leaked on purpose: registrations and lookups may happen during static
  // initialisation and destruction of other translation units.
  static RegistryOf<Product>* instance = [] {
    auto* r = new RegistryOf<Product>(KindTraits<Product>::kName);
    registry_detail::add_kind(r);
    return r;
  }();
  return *instance;
}

// The kinds whose registry exists, sorted by kind name.
std::vector<const AnyRegistry*> kinds();
// The kind named `kind` ("optimizer"), or nullptr.
const AnyRegistry* find_kind(std::string_view kind);

// Hydra's instantiate, in the kind's registry: builds the product of
// `node` now (Registry::create) ...
template <class Product, class... A>
std::shared_ptr<Product> instantiate(const config::Node& node, A&&... args) {
  return registry<Product>().create(node, std::forward<A>(args)...);
}
// ... of the subtree of `root` at `path` (Registry::create_at) ...
template <class Product, class... A>
std::shared_ptr<Product> instantiate_at(const config::Node& root, const config::KeyPath& path, A&&... args) {
  return registry<Product>().create_at(root, path, std::forward<A>(args)...);
}
// ... or binds it and returns the factory to call later (Registry::partial).
template <class Product>
typename RegistryOf<Product>::partial_type partial(const config::Node& node, const config::KeyPath& at = {}) {
  return registry<Product>().partial(node, at);
}

}  // namespace kiln
