// Typed config schemas: plain C++ structs bound to config subtrees.
//
// A Schema<T> declares, for a default-constructible struct T, which keys a
// config subtree may hold, the C++ member each key fills, and per field a doc
// line, whether it is required, a numeric range, a set of choices and how
// lists at that key merge during composition. Binding a resolved subtree
// gives a plain T; every problem in the subtree (wrong type, missing
// mandatory value, unknown key, value out of range or not among the choices,
// bad list or map element) is collected and thrown as one ConfigError.
//
//   struct OptimizerConfig {
//     std::string name = "adamw";
//     double lr = 1e-3;
//     std::vector<double> betas{0.9, 0.999};
//     std::optional<double> clip;
//   };
//   kiln::config::Schema<OptimizerConfig> optimizer_schema() {
//     kiln::config::Schema<OptimizerConfig> s("optimizer");
//     s.field("name", &OptimizerConfig::name).doc("which optimizer").choices({"adamw", "sgd"});
//     s.field("lr", &OptimizerConfig::lr).doc("learning rate").range(0.0, 10.0).required();
//     s.field("betas", &OptimizerConfig::betas).doc("Adam betas");
//     s.field("clip", &OptimizerConfig::clip).doc("max grad norm, null for none");
//     return s;
//   }
//   OptimizerConfig cfg = optimizer_schema().bind_at(root, {"optimizer"});  // throws ConfigError
//
// Field types: bool; integral types (range-checked against the C++ type);
// float, double; std::string; enums (with a name table); std::optional<X>
// (null allowed); std::vector<X>; std::map<std::string, X>; structs with their
// own Schema (nested()); kiln::config::Node, a raw escape hatch; and types
// that bring their own codec through FieldCodec (kiln::Instance<U>, a nested
// `_target_` node, see kiln/registry/instance.h). X may be any of these,
// recursively.
//
// Values convert as OmegaConf 2.2 structured configs do (docs/config-schemas.md
// has the full table): "100" is accepted for an int, 3.5 and true are not; an
// int or "1e-3" is accepted for a float; bools accept integers (0 is false)
// and the strings true/false, yes/no, on/off, y/n in any case; strings accept
// ints and floats (as Python prints them) but refuse bools, because YAML 1.1
// reads `no`, `off` and `yes` as bools and "False" is never what was meant;
// null only for optional fields.
//
// Defaults come from T's default-constructed instance, as if the struct were
// the base the config was merged onto (OmegaConf's structured-config rule):
// an absent key or `???` keeps the default, nested structs and string-keyed
// maps merge into their defaults key by key, lists replace theirs. A field
// declared required() has no default: an absent key or `???` there is the
// error "missing mandatory value".
//
// Ownership and thread safety: a Schema is a cheap handle (like a torch
// ModuleHolder); copies share one set of declarations. Declare every field
// before the first bind; after that, bind, describe and list_merge_modes are
// const and safe to call from several threads at once.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/config/schema_codec.h"

namespace kiln::config {

template <class T>
class Schema;

// A field type that converts itself, for layers built on schemas (the
// registry's kiln::Instance<U>): specialise FieldCodec<L> with
//   static std::shared_ptr<const schema_detail::Codec<L>> make();
// and field() accepts L, and std::optional / std::vector / std::map of L,
// like a scalar. The codec's type_name() is the TYPE column of help.
template <class L>
struct FieldCodec {};

// One row of `kiln train --help`: a leaf field of a schema. Nested struct
// fields are listed by their own fields ("model.encoder.dim").
struct FieldHelp {
  std::string key;            // full dotted key: "optimizer.lr"
  std::string type;           // "float", "list[float]", "optional[int]", "map[string, int]", a schema name
  std::string default_value;  // the default as YAML (flow style for containers); "???" when required
  std::optional<std::string> current_value;  // the value in `current` as YAML, when it holds this key
  std::string doc;                           // the field's one-line doc
  std::string constraints;                   // "0 <= x <= 10", "one of: adamw, sgd", or ""
  bool required = false;
};

// An aligned table (KEY, TYPE, DEFAULT, CURRENT when any row has one,
// DESCRIPTION = doc; constraints; "required"), one line per row, each ending
// in "\n", with no trailing spaces. Long cells are cut to 40 characters with
// "...". Empty rows give "".
std::string format_help(const std::vector<FieldHelp>& rows);

struct SchemaOptions {
  // Accept keys the schema does not declare (e.g. kwargs forwarded to a
  // `_target_` factory). A closed schema (the default) reports every unknown
  // key with a "did you mean", so typos never pass silently.
  bool allow_unknown_keys = false;
  // One line describing the whole schema, shown as the help section title.
  std::string doc;
};

// Schema internals that need FieldHelp and Schema; the codecs are in
// schema_codec.h.
namespace schema_detail {

template <class L>
inline constexpr bool kHasFieldCodec = requires {
  FieldCodec<L>::make();
};

// A struct with its own schema. A schema nested in itself (a tree through a
// std::vector<E>) is held weakly, so the declarations do not own themselves.
template <class E>
class NestedCodec final : public Codec<E> {
 public:
  NestedCodec(Schema<E> schema, bool self) : strong_(self ? std::nullopt : std::optional<Schema<E>>(schema)) {
    if (self) weak_ = schema.state_;
  }
  std::string type_name() const override;
  std::string expected() const override;
  bool decode(const Node& node, const std::string& key, Diagnostics& diags, E& value) const override;
  Node encode(const E& value) const override;

 private:
  Schema<E> schema() const { return strong_ ? *strong_ : Schema<E>(weak_.lock()); }

  std::optional<Schema<E>> strong_;
  std::weak_ptr<typename Schema<E>::State> weak_;
};

// --- fields ---

using MergeModes = std::vector<std::pair<std::string, ListMerge>>;

template <class T>
class FieldBase {
 public:
  explicit FieldBase(std::string name) : key(std::move(name)) {}
  virtual ~FieldBase() = default;
  // `value` is the node at this field's key, nullptr when absent; `parent`
  // the map that holds (or lacks) it; `full_key` the field's dotted key.
  virtual void bind(const Node* value, const Node& parent, const std::string& full_key, T& out,
                    Diagnostics& diags) const = 0;
  virtual Node encode(const T& object) const = 0;
  virtual void describe(const T& defaults, const std::string& full_key, const Node* current,
                        std::vector<FieldHelp>& rows) const = 0;
  virtual void list_merge_modes(const std::string& full_key, MergeModes& out) const = 0;

  std::string key;
  std::string doc;
  bool required = false;
  ListMerge list_merge = ListMerge::kDefault;
};

template <class T, class M>
class FieldImpl final : public FieldBase<T> {
 public:
  FieldImpl(std::string name, M T::*member, std::shared_ptr<const Codec<M>> codec)
      : FieldBase<T>(std::move(name)), member_(member), codec_(std::move(codec)) {}

  void bind(const Node* value, const Node& parent, const std::string& full_key, T& out,
            Diagnostics& diags) const override {
    if (value == nullptr || value->is_missing()) {
      const Source& where = value ? value->source() : parent.source();
      if (this->required) {
        add_missing_value(diags, full_key, where, codec_->expected(), value == nullptr);
      } else if (absent_is_empty_map) {
        // A nested struct left out still has its own required fields.
        codec_->decode(Node::map(where), full_key, diags, out.*member_);
      }
      return;
    }
    codec_->decode(*value, full_key, diags, out.*member_);
  }

  Node encode(const T& object) const override { return codec_->encode(object.*member_); }

  void describe(const T& defaults, const std::string& full_key, const Node* current,
                std::vector<FieldHelp>& rows) const override {
    if (describe_nested) {
      describe_nested(defaults.*member_, full_key, current, rows);
      return;
    }
    FieldHelp row;
    row.key = full_key;
    row.type = codec_->type_name();
    row.default_value = this->required ? "???" : flow_yaml(codec_->encode(defaults.*member_));
    if (current) row.current_value = flow_yaml(*current);
    row.doc = this->doc;
    if (constraints_text) row.constraints = constraints_text();
    row.required = this->required;
    rows.push_back(std::move(row));
  }

  void list_merge_modes(const std::string& full_key, MergeModes& out) const override {
    if (this->list_merge != ListMerge::kDefault) out.emplace_back(full_key, this->list_merge);
    if (merge_modes_nested) merge_modes_nested(full_key, out);
  }

  // Set by Schema::field / nested.
  std::function<std::string()> constraints_text;
  std::function<void(const M&, const std::string&, const Node*, std::vector<FieldHelp>&)> describe_nested;
  std::function<void(const std::string&, MergeModes&)> merge_modes_nested;
  bool absent_is_empty_map = false;

 private:
  M T::*member_;
  std::shared_ptr<const Codec<M>> codec_;
};

}  // namespace schema_detail

// Returned by Schema::field and Schema::nested to declare the field's doc,
// constraints and merge mode. Chainable; holds a pointer into the schema, so
// use it only while the schema lives (in practice: in the declaring statement).
template <class T, class M>
class FieldBuilder {
 public:
  using Leaf = schema_detail::leaf_t<M>;

  FieldBuilder(schema_detail::FieldImpl<T, M>* field, std::shared_ptr<schema_detail::ConstraintsFor<Leaf>> constraints)
      : field_(field), constraints_(std::move(constraints)) {}

  // One line for `--help`.
  FieldBuilder& doc(std::string text) {
    field_->doc = std::move(text);
    return *this;
  }
  // The key must be set to a value other than ???; the struct's default is
  // never used.
  FieldBuilder& required(bool yes = true) {
    field_->required = yes;
    return *this;
  }
  // Inclusive bounds, checked on every element of list and map fields and on
  // the value of optional fields (null passes). Numeric fields only.
  FieldBuilder& range(Leaf lo, Leaf hi) { return min(lo).max(hi); }
  FieldBuilder& min(Leaf lo) {
    if constexpr (kNumeric) {
      constraints_->min = lo;
    } else {
      static_assert(kNumeric, "range()/min()/max() need a numeric field (int, float, or containers of them)");
    }
    return *this;
  }
  FieldBuilder& max(Leaf hi) {
    if constexpr (kNumeric) {
      constraints_->max = hi;
    } else {
      static_assert(kNumeric, "range()/min()/max() need a numeric field (int, float, or containers of them)");
    }
    return *this;
  }
  // The allowed values (string or numeric fields); a string not listed gets
  // a "did you mean".
  FieldBuilder& choices(std::vector<Leaf> values) {
    if constexpr (kChoosable) {
      constraints_->choices = std::move(values);
    } else {
      static_assert(kChoosable, "choices() needs a string or numeric field; enums list their names in field()");
    }
    return *this;
  }
  // How lists at this key merge during composition (see ListMerge and
  // Schema::list_merge_modes). List fields only.
  FieldBuilder& list_merge(ListMerge mode) {
    static_assert(schema_detail::IsListField<M>::value, "list_merge() needs a std::vector field");
    field_->list_merge = mode;
    return *this;
  }

 private:
  static constexpr bool kNumeric = std::is_arithmetic_v<Leaf> && !std::is_same_v<Leaf, bool>;
  static constexpr bool kChoosable = kNumeric || std::is_same_v<Leaf, std::string>;

  schema_detail::FieldImpl<T, M>* field_;
  std::shared_ptr<schema_detail::ConstraintsFor<Leaf>> constraints_;
};

template <class T>
class Schema {
  static_assert(std::is_default_constructible_v<T> && std::is_copy_constructible_v<T>,
                "a schema's struct must be default-constructible (its defaults) and copyable");

 public:
  // `name` names the struct in help and messages ("optimizer").
  explicit Schema(std::string name, SchemaOptions options = {}) : state_(std::make_shared<State>()) {
    state_->name = std::move(name);
    state_->options = std::move(options);
  }

  // Declares `key` as filling `member`. M is bool, an integral type, float,
  // double, std::string, kiln::config::Node, or std::optional / std::vector /
  // std::map<std::string, ...> of those. Keys are single segments, each
  // declared once.
  template <class M>
  FieldBuilder<T, M> field(std::string key, M T::*member);

  // An enum field (or a container of enums) read from the names given:
  //   s.field("mode", &Cfg::mode, {{"train", Mode::kTrain}, {"eval", Mode::kEval}});
  template <class M>
  FieldBuilder<T, M> field(std::string key, M T::*member,
                           std::vector<std::pair<std::string, schema_detail::leaf_t<M>>> names);

  // A field holding a struct with its own schema: M is E, std::optional<E>,
  // std::vector<E> or std::map<std::string, E>. A plain E merges into the
  // default in T and its fields are listed one by one in help.
  template <class M, class E>
  FieldBuilder<T, M> nested(std::string key, M T::*member, Schema<E> schema);

  // See SchemaOptions.
  Schema& doc(std::string text) {
    state_->options.doc = std::move(text);
    return *this;
  }
  Schema& allow_unknown_keys(bool allow = true) {
    state_->options.allow_unknown_keys = allow;
    return *this;
  }
  // Makes the schema open and copies every undeclared key into `member` (a
  // map Node), merging over its default entries.
  Schema& extra_keys(Node T::*member) {
    state_->extra = member;
    state_->options.allow_unknown_keys = true;
    return *this;
  }

  const std::string& name() const { return state_->name; }
  const std::string& doc() const { return state_->options.doc; }
  bool allows_unknown_keys() const { return state_->options.allow_unknown_keys; }

  // Binds `subtree` (a resolved map); `at` is where it sits in the config,
  // used only to name keys in messages. Throws ConfigError listing every
  // problem.
  T bind(const Node& subtree, const KeyPath& at = {}) const {
    T value{};
    Diagnostics diags;
    bind_into(subtree, value, diags, format_key(at));
    diags.throw_if_any();
    return value;
  }
  // Binds the subtree of `root` at `path`; an absent subtree binds as an
  // empty map (all defaults; required fields are reported missing).
  T bind_at(const Node& root, const KeyPath& path) const {
    Node empty;
    return bind(schema_detail::subtree_or_empty(root, path, empty), path);
  }
  // Binds `subtree` over the current contents of `out` (they act as the
  // defaults), adding problems to `diags` under `key` (the dotted key of the
  // subtree). True when no problem was found; `out` is unspecified otherwise.
  bool bind_into(const Node& subtree, T& out, Diagnostics& diags, const std::string& key = "") const;

  // The value as a config map, fields in declaration order (then extra keys).
  Node to_node(const T& value) const;

  // One row per leaf field, keys prefixed by `at`. `current`, when given, is
  // the subtree the schema would bind (its values fill current_value).
  std::vector<FieldHelp> describe(const Node* current = nullptr, const KeyPath& at = {}) const {
    std::vector<FieldHelp> rows;
    describe_into(T{}, format_key(at), current, rows);
    return rows;
  }
  void describe_into(const T& defaults, const std::string& key, const Node* current,
                     std::vector<FieldHelp>& rows) const {
    for (const auto& f : state_->fields) {
      const Node* child = current && current->is_map() ? current->find(f->key) : nullptr;
      f->describe(defaults, schema_detail::child_key(key, f->key), child, rows);
    }
  }

  // Dotted key (prefixed by `at`) -> merge mode, for every field declared
  // with list_merge(), nested structs included; for ComposeOptions.
  std::vector<std::pair<std::string, ListMerge>> list_merge_modes(const KeyPath& at = {}) const {
    schema_detail::MergeModes out;
    list_merge_modes_into(format_key(at), out);
    return out;
  }
  void list_merge_modes_into(const std::string& key, schema_detail::MergeModes& out) const {
    for (const auto& f : state_->fields) f->list_merge_modes(schema_detail::child_key(key, f->key), out);
  }

 private:
  template <class>
  friend class Schema;
  template <class>
  friend class schema_detail::NestedCodec;

  struct State {
    std::string name;
    SchemaOptions options;
    std::vector<std::unique_ptr<schema_detail::FieldBase<T>>> fields;
    Node T::*extra = nullptr;
  };

  explicit Schema(std::shared_ptr<State> state) : state_(std::move(state)) {}

  template <class M>
  schema_detail::FieldImpl<T, M>* add_field(std::string key, M T::*member,
                                            std::shared_ptr<const schema_detail::Codec<M>> codec) {
    assert(!key.empty() && key.find_first_of(".[]") == std::string::npos && "field keys are single segments");
    for ([[maybe_unused]] const auto& f : state_->fields) assert(f->key != key && "field declared twice");
    auto field = std::make_unique<schema_detail::FieldImpl<T, M>>(std::move(key), member, std::move(codec));
    auto* raw = field.get();
    state_->fields.push_back(std::move(field));
    return raw;
  }

  std::shared_ptr<State> state_;
};

// A schema of any struct type, for registries: validates, describes and
// lists merge modes without knowing T. Copies share the schema.
class AnySchema {
 public:
  template <class T>
  AnySchema(Schema<T> schema)  // NOLINT(google-explicit-constructor): a Schema is an AnySchema
      : impl_(std::make_shared<const Model<T>>(std::move(schema))) {}

  const std::string& name() const { return impl_->name(); }
  const std::string& doc() const { return impl_->doc(); }
  // Binds `subtree` and discards the result, adding problems to `diags`
  // under `key`. True when none were found.
  bool validate(const Node& subtree, Diagnostics& diags, const std::string& key = "") const {
    return impl_->validate(subtree, diags, key);
  }
  std::vector<FieldHelp> describe(const Node* current = nullptr, const KeyPath& at = {}) const {
    return impl_->describe(current, at);
  }
  std::vector<std::pair<std::string, ListMerge>> list_merge_modes(const KeyPath& at = {}) const {
    return impl_->list_merge_modes(at);
  }
  // The typed schema, or nullptr when this one is for another struct.
  template <class T>
  const Schema<T>* target() const {
    auto* model = dynamic_cast<const Model<T>*>(impl_.get());
    return model ? &model->schema : nullptr;
  }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual const std::string& name() const = 0;
    virtual const std::string& doc() const = 0;
    virtual bool validate(const Node& subtree, Diagnostics& diags, const std::string& key) const = 0;
    virtual std::vector<FieldHelp> describe(const Node* current, const KeyPath& at) const = 0;
    virtual std::vector<std::pair<std::string, ListMerge>> list_merge_modes(const KeyPath& at) const = 0;
  };
  template <class T>
  struct Model final : Concept {
    explicit Model(Schema<T> s) : schema(std::move(s)) {}
    const std::string& name() const override { return schema.name(); }
    const std::string& doc() const override { return schema.doc(); }
    bool validate(const Node& subtree, Diagnostics& diags, const std::string& key) const override {
      T value{};
      return schema.bind_into(subtree, value, diags, key);
    }
    std::vector<FieldHelp> describe(const Node* current, const KeyPath& at) const override {
      return schema.describe(current, at);
    }
    std::vector<std::pair<std::string, ListMerge>> list_merge_modes(const KeyPath& at) const override {
      return schema.list_merge_modes(at);
    }
    Schema<T> schema;
  };

  std::shared_ptr<const Concept> impl_;
};

// A schema bound to the subtree at `key_prefix` of a job config.
struct SchemaBinding {
  std::string key_prefix;  // dotted ("trainer", "model.encoder"); "" is the whole config
  AnySchema schema;

  // Validates root's subtree at key_prefix (an absent subtree counts as an
  // empty map), adding problems with full keys to `diags`. True when none.
  bool validate(const Node& root, Diagnostics& diags) const;
  // The same, throwing ConfigError when there are problems.
  void validate(const Node& root) const;
  // Help rows with full keys; values from `root` when given.
  std::vector<FieldHelp> describe(const Node* root = nullptr) const;
  // Full dotted keys -> merge modes.
  std::vector<std::pair<std::string, ListMerge>> list_merge_modes() const;
};

// Schemas for the subtrees of a job config, so that each layer (trainer,
// data, model, ...) contributes its own and `kiln train` validates the whole
// config and prints help for it. Bindings are kept sorted by key prefix, so
// output does not depend on registration order. Prefixes should not nest
// unless the outer schema declares the inner key (e.g. as a Node field) or
// is open.
//
// Thread safety: none; register during startup, before threads read it.
class SchemaRegistry {
 public:
  // Registers `schema` at `key_prefix`. Returns false when a schema was
  // already registered there (the new one replaces it).
  bool add(std::string key_prefix, AnySchema schema);
  bool remove(std::string_view key_prefix);
  void clear() { bindings_.clear(); }
  const SchemaBinding* find(std::string_view key_prefix) const;
  const std::vector<SchemaBinding>& bindings() const { return bindings_; }

  // Validates every binding; true when no problem was found.
  bool validate(const Node& root, Diagnostics& diags) const;
  // Throws one ConfigError listing the problems of all schemas.
  void validate(const Node& root) const;
  std::vector<FieldHelp> describe(const Node* root = nullptr) const;
  std::vector<std::pair<std::string, ListMerge>> list_merge_modes() const;
  // One section per binding: a title line ("optimizer: Optimizer settings"),
  // then format_help of its rows; sections separated by a blank line.
  std::string help(const Node* root = nullptr) const;

 private:
  std::vector<SchemaBinding> bindings_;
};

// The process-wide registry `kiln train` validates the composed config with.
SchemaRegistry& job_schema_registry();
// job_schema_registry().add(...).
bool register_job_schema(std::string key_prefix, AnySchema schema);
// job_schema_registry().bindings().
const std::vector<SchemaBinding>& job_schemas();

// ---------------------------------------------------------------------------
// Template definitions.

namespace schema_detail {

template <class E>
std::string NestedCodec<E>::type_name() const {
  return schema().name();
}
template <class E>
std::string NestedCodec<E>::expected() const {
  return "a map (" + schema().name() + ")";
}
template <class E>
bool NestedCodec<E>::decode(const Node& node, const std::string& key, Diagnostics& diags, E& value) const {
  if (node.is_missing()) {
    add_missing_value(diags, key, node.source(), expected(), false);
    return false;
  }
  return schema().bind_into(node, value, diags, key);
}
template <class E>
Node NestedCodec<E>::encode(const E& value) const {
  return schema().to_node(value);
}

}  // namespace schema_detail

template <class T>
template <class M>
FieldBuilder<T, M> Schema<T>::field(std::string key, M T::*member) {
  using L = schema_detail::leaf_t<M>;
  if constexpr (schema_detail::kIsScalarLeaf<L>) {
    auto constraints = std::make_shared<schema_detail::Constraints<L>>();
    auto leaf = std::make_shared<const schema_detail::ScalarCodec<L>>(constraints);
    auto* f = add_field<M>(std::move(key), member, schema_detail::wrap_codec<M, L>(std::move(leaf)));
    f->constraints_text = [constraints] { return constraints->text(); };
    return FieldBuilder<T, M>(f, std::move(constraints));
  } else if constexpr (std::is_same_v<L, Node>) {
    auto leaf = std::make_shared<const schema_detail::NodeCodec>();
    auto* f = add_field<M>(std::move(key), member, schema_detail::wrap_codec<M, L>(std::move(leaf)));
    return FieldBuilder<T, M>(f, nullptr);
  } else if constexpr (schema_detail::kHasFieldCodec<L>) {
    auto* f = add_field<M>(std::move(key), member, schema_detail::wrap_codec<M, L>(FieldCodec<L>::make()));
    return FieldBuilder<T, M>(f, nullptr);
  } else {
    static_assert(schema_detail::kDependentFalse<M>,
                  "unsupported field type: use bool, an integer type, float, double, std::string, "
                  "kiln::config::Node, or std::optional/std::vector/std::map<std::string, X> of them; "
                  "structs need nested() with their Schema, enums need field(key, member, names)");
  }
}

template <class T>
template <class M>
FieldBuilder<T, M> Schema<T>::field(std::string key, M T::*member,
                                    std::vector<std::pair<std::string, schema_detail::leaf_t<M>>> names) {
  using L = schema_detail::leaf_t<M>;
  static_assert(std::is_enum_v<L>, "field(key, member, names) is for enum fields");
  auto leaf = std::make_shared<const schema_detail::EnumCodec<L>>(std::move(names));
  auto* f = add_field<M>(std::move(key), member, schema_detail::wrap_codec<M, L>(leaf));
  f->constraints_text = [leaf] { return schema_detail::choices_text(leaf->texts()); };
  return FieldBuilder<T, M>(f, nullptr);
}

template <class T>
template <class M, class E>
FieldBuilder<T, M> Schema<T>::nested(std::string key, M T::*member, Schema<E> schema) {
  static_assert(std::is_same_v<schema_detail::leaf_t<M>, E>,
                "nested(key, member, Schema<E>): the member must be E, std::optional<E>, std::vector<E> or "
                "std::map<std::string, E>");
  bool self = false;
  if constexpr (std::is_same_v<E, T>) self = schema.state_ == state_;
  auto leaf = std::make_shared<const schema_detail::NestedCodec<E>>(schema, self);
  auto* f = add_field<M>(std::move(key), member, schema_detail::wrap_codec<M, E>(std::move(leaf)));
  if constexpr (std::is_same_v<M, E>) {
    f->absent_is_empty_map = true;
    f->describe_nested = [schema](const E& defaults, const std::string& k, const Node* current,
                                  std::vector<FieldHelp>& rows) { schema.describe_into(defaults, k, current, rows); };
  }
  if constexpr (std::is_same_v<M, E> || std::is_same_v<M, std::optional<E>>) {
    f->merge_modes_nested = [schema](const std::string& k, schema_detail::MergeModes& out) {
      schema.list_merge_modes_into(k, out);
    };
  }
  return FieldBuilder<T, M>(f, nullptr);
}

template <class T>
bool Schema<T>::bind_into(const Node& subtree, T& out, Diagnostics& diags, const std::string& key) const {
  const std::size_t before = diags.items().size();
  if (subtree.is_missing()) {
    schema_detail::add_missing_value(diags, key, subtree.source(), "a map (" + state_->name + ")", false);
    return false;
  }
  if (!subtree.is_map()) {
    schema_detail::add_type_error(diags, key, subtree, "a map (" + state_->name + ")");
    return false;
  }
  const auto& fields = state_->fields;
  std::vector<bool> seen(fields.size(), false);
  // In the config's order, so messages follow the file.
  for (std::size_t i = 0; i < subtree.size(); ++i) {
    const std::string& name = subtree.keys()[i];
    std::size_t index = 0;
    while (index < fields.size() && fields[index]->key != name) ++index;
    if (index < fields.size()) {
      seen[index] = true;
      fields[index]->bind(&subtree.at(i), subtree, schema_detail::child_key(key, name), out, diags);
    } else if (state_->extra) {
      Node& extra = out.*(state_->extra);
      if (!extra.is_map()) extra = Node::map(subtree.source());
      extra.set(name, subtree.at(i));
    } else if (!state_->options.allow_unknown_keys) {
      std::vector<std::string> names;
      for (const auto& f : fields) names.push_back(f->key);
      schema_detail::add_unknown_key(diags, key, name, subtree.at(i).source(), state_->name, names);
    }
  }
  for (std::size_t index = 0; index < fields.size(); ++index) {
    if (!seen[index])
      fields[index]->bind(nullptr, subtree, schema_detail::child_key(key, fields[index]->key), out, diags);
  }
  return diags.items().size() == before;
}

template <class T>
Node Schema<T>::to_node(const T& value) const {
  Node map = Node::map();
  for (const auto& f : state_->fields) map.set(f->key, f->encode(value));
  if (state_->extra) {
    const Node& extra = value.*(state_->extra);
    if (extra.is_map()) {
      for (std::size_t i = 0; i < extra.size(); ++i)
        if (!map.contains(extra.keys()[i])) map.set(extra.keys()[i], extra.at(i));
    }
  }
  return map;
}

}  // namespace kiln::config
