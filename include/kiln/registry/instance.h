// kiln::Instance<U>: an options field holding a nested `_target_` node, so
// one factory's parameters can name another registered product (a model's
// encoder, a warmup scheduler wrapping another scheduler, a list of
// callbacks). U is a kind declared with KILN_DEFINE_KIND.
//
//   struct MlpOptions {
//     std::int64_t hidden = 128;
//     kiln::Instance<Encoder> encoder{"conv"};         // default: {_target_: conv}
//     std::vector<kiln::Instance<Callback>> callbacks;  // a list of nodes works too
//   };
//   s.field("encoder", &MlpOptions::encoder).doc("the input encoder");
//   s.field("callbacks", &MlpOptions::callbacks);
//
//   std::shared_ptr<Model> make_mlp(const MlpOptions& o) {
//     std::shared_ptr<Encoder> encoder = o.encoder.create();  // U's runtime args, if any, go here
//     ...
//   }
//
//   model:
//     _target_: mlp
//     hidden: 256
//     encoder: {_target_: conv, channels: 32}
//
// Binding the parent binds the nested node too, through U's registry
// (kiln::registry<U>()): an unknown `_target_`, a typo in a nested key or a
// value of the wrong type is reported with its full key
// ("model.encoder.channels") together with the parent's own problems. Binding
// never builds anything: the parent's factory builds the nested product when
// it calls create(args...), which it may do any number of times (each call
// builds a new one), passing U's runtime arguments. So an Instance is always
// what Hydra calls a partial; `_partial_: true` on the nested node is
// accepted and changes nothing.
//
// Defaults: a default-constructed Instance is empty (shown as ??? in help;
// create() on it throws ConfigError); declare the field required(), give it
// a default config, or wrap it in std::optional (null = none). When the
// config sets the key, a node whose `_target_` is absent or equal to the
// default's is merged over the default config (so `encoder: {channels: 64}`
// tweaks the default encoder); a node naming another target replaces it. A
// default the config leaves untouched is checked when create() first binds
// it, and its errors then carry the source "a C++ default".
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/config/schema.h"
#include "kiln/registry/kind.h"

namespace kiln {

template <class U>
class Instance {
  static_assert(KindTraits<U>::kDeclared,
                "kiln::Instance<U> needs U's kind: declare it with KILN_DEFINE_KIND(U, \"name\", RuntimeArgs...)");

 public:
  using partial_type = typename RegistryOf<U>::partial_type;

  // Empty: no product configured.
  Instance() = default;
  // A default config, `{_target_: name, param: value, ...}`; values without a
  // source get the source "a C++ default".
  explicit Instance(config::Node config) : config_(std::move(config)) {
    if (!config_.source().known()) config_.set_source_recursive(config::Source::generated("a C++ default"));
  }
  // The default config `{_target_: target}`.
  explicit Instance(std::string target) : Instance(target_node(std::move(target))) {}
  // Already bound (what a schema bind stores).
  explicit Instance(partial_type bound) : config_(bound.config()), key_(bound.key()), bound_(std::move(bound)) {}

  bool empty() const { return config_.is_null(); }
  // The `_target_` name, or "" when empty or not a string.
  std::string target() const {
    const config::Node* t = config_.is_map() ? config_.find(kTargetKey) : nullptr;
    return t && t->is_string() ? t->as_string() : std::string();
  }
  // The node, reserved keys included; null when empty.
  const config::Node& config() const { return config_; }
  // Where the node was bound ("model.encoder"); "" for an unbound default.
  const std::string& key() const { return key_; }

  // The bound factory; binds a default config now (throwing ConfigError on
  // problems). Throws ConfigError when empty.
  partial_type partial() const {
    if (bound_) return bound_;
    if (empty()) throw config::ConfigError(config::Diagnostic{key_, {}, empty_message(), {}});
    config::Diagnostics diags;
    auto bound = registry<U>().bind(config_, key_, diags);
    diags.throw_if_any();
    return std::move(*bound);
  }
  // Builds a new U, passing U's runtime arguments: partial()(args...).
  template <class... A>
  std::shared_ptr<U> create(A&&... args) const {
    return partial()(std::forward<A>(args)...);
  }

 private:
  static config::Node target_node(std::string target) {
    config::Node node = config::Node::map();
    node.set(kTargetKey, config::Node::string(std::move(target)));
    return node;
  }
  static std::string empty_message() {
    return std::string("no ") + KindTraits<U>::kName +
           " is configured here: expected a map with _target_ (the field is empty and has no default)";
  }

  config::Node config_;
  std::string key_;
  partial_type bound_;
};

namespace registry_detail {

// `node` merged over `default_config` when both are maps and the node's
// `_target_` is absent or equal to the default's; otherwise `node`. The
// result carries the node's source. Merge problems go to `diags`.
config::Node over_default(const config::Node& default_config, const config::Node& node, const std::string& key,
                          config::Diagnostics& diags);

template <class U>
class InstanceCodec final : public config::schema_detail::Codec<Instance<U>> {
 public:
  std::string type_name() const override { return KindTraits<U>::kName; }
  std::string expected() const override {
    return "a map with _target_ (" + config::schema_detail::with_article(KindTraits<U>::kName) + ")";
  }
  bool decode(const config::Node& node, const std::string& key, config::Diagnostics& diags,
              Instance<U>& value) const override {
    if (node.is_missing()) {
      config::schema_detail::add_missing_value(diags, key, node.source(), expected(), false);
      return false;
    }
    auto bound = registry<U>().bind(over_default(value.config(), node, key, diags), key, diags);
    if (!bound) return false;
    value = Instance<U>(std::move(*bound));
    return true;
  }
  config::Node encode(const Instance<U>& value) const override {
    return value.empty() ? config::Node::missing() : value.config();
  }
};

}  // namespace registry_detail
}  // namespace kiln

namespace kiln::config {

// Schema::field accepts Instance<U> (and optional/vector/map of it).
template <class U>
struct FieldCodec<kiln::Instance<U>> {
  static std::shared_ptr<const schema_detail::Codec<kiln::Instance<U>>> make() {
    return std::make_shared<const kiln::registry_detail::InstanceCodec<U>>();
  }
};

}  // namespace kiln::config
