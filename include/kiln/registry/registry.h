// A registry of named factories for one kind of product: how a config node
// `{_target_: adamw, lr: 3e-4}` becomes an object.
//
// A kind is a product type plus the runtime arguments its factories need
// besides their config: Registry<Model> builds models from config alone,
// Registry<Optimizer, Params> needs the model's parameters. Each factory is
// registered under a short name with
//   - an options struct and its kiln::config::Schema, which declares the
//     parameters: their names, defaults, types, ranges, choices and docs;
//   - a function (const Options&, RuntimeArgs...) -> std::shared_ptr<Product>
//     (std::shared_ptr or std::unique_ptr of a derived class is fine).
//
//   struct AdamWOptions { double lr = 1e-3; double weight_decay = 0.01; };
//   kiln::config::Schema<AdamWOptions> adamw_schema() {
//     kiln::config::Schema<AdamWOptions> s("adamw", {.doc = "AdamW (decoupled weight decay)"});
//     s.field("lr", &AdamWOptions::lr).doc("learning rate").min(0.0);
//     s.field("weight_decay", &AdamWOptions::weight_decay).doc("decoupled weight decay");
//     return s;
//   }
//   std::shared_ptr<Optimizer> make_adamw(const AdamWOptions& o, Params params);
//
//   kiln::Registry<Optimizer, Params> optimizers("optimizer");
//   optimizers.add("adamw", adamw_schema(), make_adamw);
//   auto opt = optimizers.create_at(root, {"optimizer"}, model_params);
//
// Instantiating a node: its `_target_` names the factory (see config_keys.h
// for the reserved keys); every other key is bound to the factory's options
// through the schema, so parameters arrive by name, an absent parameter
// takes its declared default, a key no parameter takes is an error with a
// "did you mean", and wrong types and values out of range are errors naming
// the full key ("optimizer.lr") and where it was written. All problems in
// the node, nested `_target_` nodes included (kiln::Instance), are reported
// together in one ConfigError. Nodes must be resolved (no `${...}` left).
//
// Most code uses the process-wide registry of a kind declared with
// KILN_DEFINE_KIND (kind.h) and registers with KILN_REGISTER (registrar.h);
// a Registry object of your own works the same for top-level nodes.
//
// Thread safety: registration is meant for startup (static initialisers or
// early in main) but is guarded by a lock, so it is safe at any time.
// Lookups, validation, binding and instantiation take a shared lock only to
// find the factory and are safe to call concurrently from any number of
// threads, also while another thread registers. Factories run outside the
// lock.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/config/schema.h"
#include "kiln/registry/config_keys.h"
#include "kiln/registry/partial.h"

namespace kiln {

// One registered factory, for help and completion.
struct FactoryInfo {
  std::string kind;                                 // "optimizer"
  std::string name;                                 // "adamw"
  config::AnySchema schema;                         // its parameters
  std::string doc() const { return schema.doc(); }  // the schema's doc line
  // One row per parameter (nested struct fields one by one), keys prefixed
  // by `at`; `current`, when given, is the node the factory would bind
  // (reserved keys are ignored) and fills the CURRENT column.
  std::vector<config::FieldHelp> params(const config::Node* current = nullptr, const config::KeyPath& at = {}) const {
    return schema.describe(current, at);
  }
};

// The options of a factory that takes no parameters (Registry::add(name, fn)).
struct NoParams {};

// A registry of any kind, for code that lists, describes and validates
// without knowing the product type (help, completion, `kiln train`'s
// up-front check). Registry<P, A...> is one.
class AnyRegistry {
 public:
  virtual ~AnyRegistry() = default;
  // The kind's name in messages and listings: "optimizer".
  virtual const std::string& kind() const = 0;
  // Registered names, sorted.
  virtual std::vector<std::string> names() const = 0;
  virtual bool contains(std::string_view name) const = 0;
  virtual std::optional<FactoryInfo> info(std::string_view name) const = 0;
  // Binds `node` (the subtree at dotted `key`) without building anything,
  // adding every problem to `diags`. True when there was none.
  virtual bool validate(const config::Node& node, config::Diagnostics& diags, const std::string& key) const = 0;
  // The same for the subtree of `root` at `path`; an absent subtree is
  // reported as a missing `_target_`.
  bool validate_at(const config::Node& root, const config::KeyPath& path, config::Diagnostics& diags) const {
    config::Node empty;
    return validate(config::schema_detail::subtree_or_empty(root, path, empty), diags, config::format_key(path));
  }
};

template <class Product, class... Args>
class Registry final : public AnyRegistry {
 public:
  using product_type = Product;
  using partial_type = Partial<Product, Args...>;
  using Make = typename partial_type::Make;

  // `kind` names the kind in messages ("unknown optimizer 'x'").
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers `fn` as `name`, its parameters declared by `schema` (name the
  // schema after the factory: messages say "not a field of adamw"). `fn` is
  // called as fn(const Options&, Args...) and returns something convertible
  // to std::shared_ptr<Product>. Throws kiln::Error when the name is invalid
  // (see check_factory_name) or already registered.
  template <class Options, class Fn>
  void add(std::string name, config::Schema<Options> schema, Fn fn);

  // Registers a factory without parameters, called as fn(Args...); a node
  // for it may hold only reserved keys.
  template <class Fn>
  void add(std::string name, Fn fn);

  // Removes a factory; false when none had that name. To replace a factory,
  // remove it, then add the new one.
  bool remove(std::string_view name) {
    std::unique_lock lock(mutex_);
    auto it = factories_.find(name);
    if (it == factories_.end()) return false;
    factories_.erase(it);
    return true;
  }

  const std::string& kind() const override { return kind_; }
  std::vector<std::string> names() const override {
    std::shared_lock lock(mutex_);
    std::vector<std::string> out;
    out.reserve(factories_.size());
    for (const auto& entry : factories_) out.push_back(entry.first);
    return out;  // std::map keeps them sorted
  }
  bool contains(std::string_view name) const override { return find(name) != nullptr; }
  std::optional<FactoryInfo> info(std::string_view name) const override {
    auto factory = find(name);
    if (!factory) return std::nullopt;
    return FactoryInfo{kind_, std::string(name), factory->schema};
  }

  // Binds `node` (the subtree at dotted `key`): reads `_target_`, finds the
  // factory and binds the parameters. Returns the bound factory, or nullopt
  // after adding every problem to `diags`. Builds nothing.
  std::optional<partial_type> bind(const config::Node& node, const std::string& key, config::Diagnostics& diags) const;

  bool validate(const config::Node& node, config::Diagnostics& diags, const std::string& key) const override {
    return bind(node, key, diags).has_value();
  }

  // Binds `node` and returns the factory to call later with the runtime
  // arguments. `at` is where the node sits, used only in messages. Throws
  // ConfigError listing every problem.
  partial_type partial(const config::Node& node, const config::KeyPath& at = {}) const {
    config::Diagnostics diags;
    auto bound = bind(node, config::format_key(at), diags);
    diags.throw_if_any();
    return std::move(*bound);
  }
  // The same for the subtree of `root` at `path`.
  partial_type partial_at(const config::Node& root, const config::KeyPath& path) const {
    config::Node empty;
    return partial(config::schema_detail::subtree_or_empty(root, path, empty), path);
  }

  // Binds `node` and builds the product now: partial(node)(args...).
  std::shared_ptr<Product> create(const config::Node& node, Args... args) const {
    return partial(node)(std::forward<Args>(args)...);
  }
  std::shared_ptr<Product> create_at(const config::Node& root, const config::KeyPath& path, Args... args) const {
    return partial_at(root, path)(std::forward<Args>(args)...);
  }

 private:
  struct Factory {
    config::AnySchema schema;
    // Binds the parameters (reserved keys removed) under `key`.
    std::function<std::optional<Make>(const config::Node&, const std::string&, config::Diagnostics&)> bind;
  };

  std::shared_ptr<const Factory> find(std::string_view name) const {
    std::shared_lock lock(mutex_);
    auto it = factories_.find(name);
    return it == factories_.end() ? nullptr : it->second;
  }

  std::string kind_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<const Factory>, std::less<>> factories_;
};

// ---------------------------------------------------------------------------
// Template definitions.

template <class Product, class... Args>
template <class Options, class Fn>
void Registry<Product, Args...>::add(std::string name, config::Schema<Options> schema, Fn fn) {
  static_assert(std::is_invocable_v<const Fn&, const Options&, Args...>,
                "a factory is called as fn(const Options&, RuntimeArgs...) with the registry's runtime arguments");
  using Result = std::invoke_result_t<const Fn&, const Options&, Args...>;
  static_assert(std::is_convertible_v<Result, std::shared_ptr<Product>>,
                "a factory returns std::shared_ptr<Product> (or a std::shared_ptr / std::unique_ptr of a class "
                "derived from Product)");
  static_assert(std::is_copy_constructible_v<Fn>, "a factory must be copyable (a function or a copyable lambda)");
  registry_detail::check_factory_name(kind_, name);
  auto factory = std::make_shared<Factory>(Factory{config::AnySchema(schema), {}});
  factory->bind = [schema, fn](const config::Node& params, const std::string& key,
                               config::Diagnostics& diags) -> std::optional<Make> {
    Options options{};
    if (!schema.bind_into(params, options, diags, key)) return std::nullopt;
    return Make([fn, options = std::move(options)](Args... args) -> std::shared_ptr<Product> {
      return std::shared_ptr<Product>(std::invoke(fn, options, std::forward<Args>(args)...));
    });
  };
  std::unique_lock lock(mutex_);
  if (factories_.count(name) > 0) registry_detail::throw_duplicate(kind_, name);
  factories_.emplace(std::move(name), std::move(factory));
}

template <class Product, class... Args>
template <class Fn>
void Registry<Product, Args...>::add(std::string name, Fn fn) {
  static_assert(std::is_invocable_v<const Fn&, Args...>,
                "a factory without parameters is called as fn(RuntimeArgs...) with the registry's runtime arguments");
  config::Schema<NoParams> schema(name);
  add(std::move(name), std::move(schema),
      [fn](const NoParams&, Args... args) { return std::invoke(fn, std::forward<Args>(args)...); });
}

template <class Product, class... Args>
std::optional<Partial<Product, Args...>> Registry<Product, Args...>::bind(const config::Node& node,
                                                                          const std::string& key,
                                                                          config::Diagnostics& diags) const {
  const std::size_t before = diags.size();
  auto split = registry_detail::split_target_config(
      node, key, kind_, [this] { return names(); }, diags);
  if (!split) return std::nullopt;
  auto factory = find(split->target);
  if (!factory) {
    registry_detail::add_unknown_target(diags, key, kind_, split->target, split->target_source, names());
    return std::nullopt;
  }
  std::optional<Make> make = factory->bind(split->params, key, diags);
  // Problems with reserved keys count too, though the parameters bound.
  if (!make || diags.size() != before) return std::nullopt;
  return partial_type(registry_detail::BoundFrom{kind_, std::move(split->target), key, node}, std::move(*make));
}

}  // namespace kiln
