// Registering factories from your own code, in one line.
//
//   // my_models.cpp, at namespace scope:
//   KILN_REGISTER(Model, "mlp", mlp_schema(), make_mlp);
//   KILN_REGISTER(Model, "identity", make_identity);  // no parameters: make_identity(RuntimeArgs...)
//
// KILN_REGISTER defines a static kiln::Registrar whose constructor adds the
// factory to kiln::registry<Model>() while the program starts, before main.
// It works from any translation unit in any order: the registry is created
// on first use. Build the schema inside a function (mlp_schema()) rather than
// as a global, whose initialisation order relative to the registrar is
// unspecified. Do not instantiate from static initialisers: registrations in
// other files may not have run yet.
//
// A registration that fails (a duplicate name, an invalid name) throws
// kiln::Error from the static initialiser, which ends the program at
// startup with the message: two factories claiming one name is a build
// mistake that must not pass silently.
//
// Static libraries: the linker copies an object file out of a static
// library only when something references a symbol in it, and a file that
// holds only registrations is referenced by nothing, so its registrations
// silently vanish ("unknown model 'mlp'"). Either link the library whole
// (CMake: target_link_libraries(app PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,my_models>"),
// i.e. -Wl,--whole-archive), make it an OBJECT library, or skip static
// registration: export a function that registers explicitly and call it
// from main, e.g.
//   void register_my_models() { kiln::registry<Model>().add("mlp", mlp_schema(), make_mlp); }
// docs/registry.md shows each.
#pragma once

#include <string>
#include <utility>

#include "kiln/registry/kind.h"

namespace kiln {

template <class Product>
class Registrar {
 public:
  // Adds `fn` with parameters declared by `schema` (Registry::add).
  template <class Options, class Fn>
  Registrar(std::string name, config::Schema<Options> schema, Fn fn) {
    registry<Product>().add(std::move(name), std::move(schema), std::move(fn));
  }
  // Adds `fn`, a factory without parameters (Registry::add(name, fn)).
  template <class Fn>
  Registrar(std::string name, Fn fn) {
    registry<Product>().add(std::move(name), std::move(fn));
  }
};

#define KILN_REGISTRY_CONCAT_INNER(a, b) a##b
#define KILN_REGISTRY_CONCAT(a, b) KILN_REGISTRY_CONCAT_INNER(a, b)

// KILN_REGISTER(Product, "name", schema, factory) or
// KILN_REGISTER(Product, "name", factory): registers in
// kiln::registry<Product>() before main. Use at namespace scope.
#define KILN_REGISTER(Product, ...)                                                              \
  [[maybe_unused]] static const ::kiln::Registrar<Product> KILN_REGISTRY_CONCAT(kiln_registrar_, \
                                                                                __COUNTER__)(__VA_ARGS__)

}  // namespace kiln
