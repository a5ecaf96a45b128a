// Conversion between config Nodes and C++ values, for Schema<T> (schema.h).
//
// Internals: type traits over the supported field types, the non-template
// helpers that convert scalars with OmegaConf's rules and word the messages
// (src/config/schema_convert.cpp), range/choice constraints, and one Codec
// per field shape (scalar, enum, Node, optional, vector, map). Schema<T>
// composes them; nothing here is a stable API.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/config/node.h"

namespace kiln::config::schema_detail {

template <class>
inline constexpr bool kDependentFalse = false;

template <class X>
struct IsOptional : std::false_type {};
template <class U>
struct IsOptional<std::optional<U>> : std::true_type {};
template <class X>
struct IsVector : std::false_type {};
template <class U, class A>
struct IsVector<std::vector<U, A>> : std::true_type {};
template <class X>
struct IsStringMap : std::false_type {};
template <class U, class C, class A>
struct IsStringMap<std::map<std::string, U, C, A>> : std::true_type {};

// A list field: std::vector<X> or std::optional<std::vector<X>>.
template <class X>
struct IsListField : IsVector<X> {};
template <class U>
struct IsListField<std::optional<U>> : IsVector<U> {};

// The scalar (or struct, enum, Node) at the bottom of optional/vector/map.
template <class X>
struct Leaf {
  using type = X;
};
template <class U>
struct Leaf<std::optional<U>> : Leaf<U> {};
template <class U, class A>
struct Leaf<std::vector<U, A>> : Leaf<U> {};
template <class U, class C, class A>
struct Leaf<std::map<std::string, U, C, A>> : Leaf<U> {};
template <class X>
using leaf_t = typename Leaf<X>::type;

template <class X>
inline constexpr bool kIsCharacter =
    std::is_same_v<X, char> || std::is_same_v<X, wchar_t> || std::is_same_v<X, char8_t> ||
    std::is_same_v<X, char16_t> || std::is_same_v<X, char32_t>;
template <class X>
inline constexpr bool kIsInteger = std::is_integral_v<X> && !std::is_same_v<X, bool> && !kIsCharacter<X>;
template <class X>
inline constexpr bool kIsScalarLeaf =
    std::is_same_v<X, bool> || kIsInteger<X> || std::is_floating_point_v<X> || std::is_same_v<X, std::string>;

// "int8" ... "uint64": names the C++ type in out-of-range messages.
template <class I>
constexpr const char* integer_type_name() {
  constexpr bool s = std::is_signed_v<I>;
  switch (sizeof(I)) {
    case 1: return s ? "int8" : "uint8";
    case 2: return s ? "int16" : "uint16";
    case 4: return s ? "int32" : "uint32";
    default: return s ? "int64" : "uint64";
  }
}

// --- non-template helpers (schema_convert.cpp) ---

std::string child_key(const std::string& parent, const std::string& name);  // "a.b", or "b" at the root
std::string index_key(const std::string& parent, std::size_t index);        // "a[3]"
std::string with_article(const std::string& noun);                          // "an int", "a float"
// How a found value reads in a message: "string 'abc'", "int 3", "null", "a list".
std::string found_text(const Node& node);
// Shortest text that reads back to the same number: "10", "0.001", "1e-05".
std::string number_text(std::int64_t value);
std::string number_text(std::uint64_t value);
std::string number_text(double value);
// Python's repr() of a float ("0.001", "1e-05", "1e+20", "1.0", "inf"): the
// text OmegaConf stores when a float is assigned to a string field.
std::string python_float_text(double value);
// The double nearest to the shortest decimal text of a float (0.1f gives 0.1).
double float_to_double_shortest(float value);
// One-line YAML (flow style for containers) for help cells.
std::string flow_yaml(const Node& node);
std::string range_text(const std::string* lo, const std::string* hi);  // "0 <= x <= 10", "x >= 0"
std::string choices_text(const std::vector<std::string>& choices);     // "one of: a, b"

void add_type_error(Diagnostics& diags, const std::string& key, const Node& found, const std::string& expected,
                    std::string hint = {});
// `absent`: the key is not there at all (else it holds ???). `source` is the
// value's, or the enclosing map's when absent.
void add_missing_value(Diagnostics& diags, const std::string& key, const Source& source, const std::string& expected,
                       bool absent);
void add_out_of_range(Diagnostics& diags, const std::string& key, const Node& found, const std::string& value,
                      const std::string& range);
void add_not_a_choice(Diagnostics& diags, const std::string& key, const Node& found, const std::string& value,
                      const std::vector<std::string>& choices, bool suggest);
void add_unknown_key(Diagnostics& diags, const std::string& parent_key, const std::string& name, const Source& source,
                     const std::string& schema_name, const std::vector<std::string>& field_names);

// An integer of any C++ type: sign and magnitude; `overflow` when the text
// needs more than 64 bits.
struct WideInt {
  bool negative = false;
  std::uint64_t magnitude = 0;
  bool overflow = false;
};
bool decode_wide_int(const Node& node, const std::string& key, Diagnostics& diags, WideInt& out);
bool int_fits(const WideInt& value, std::int64_t lo, std::uint64_t hi);
void add_integer_overflow(Diagnostics& diags, const std::string& key, const Node& found, const char* type,
                          std::int64_t lo, std::uint64_t hi);
bool decode_double(const Node& node, const std::string& key, Diagnostics& diags, double& out);
void add_float_overflow(Diagnostics& diags, const std::string& key, const Node& found, double value);
bool decode_bool(const Node& node, const std::string& key, Diagnostics& diags, bool& out);
bool decode_string(const Node& node, const std::string& key, Diagnostics& diags, std::string& out);

// The node at `path` in root, or `empty` (set to an empty map carrying the
// source of the deepest ancestor that exists) when there is none.
const Node& subtree_or_empty(const Node& root, const KeyPath& path, Node& empty);

// --- leaf constraints ---

template <class L>
std::string value_text(const L& v) {
  if constexpr (std::is_same_v<L, std::string>) {
    return v;
  } else if constexpr (std::is_same_v<L, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_floating_point_v<L>) {
    return number_text(static_cast<double>(v));
  } else if constexpr (std::is_signed_v<L>) {
    return number_text(static_cast<std::int64_t>(v));
  } else {
    return number_text(static_cast<std::uint64_t>(v));
  }
}

// Range (inclusive) and choices of a scalar leaf; checked after conversion.
template <class L>
struct Constraints {
  std::optional<L> min;
  std::optional<L> max;
  std::vector<L> choices;

  std::string text() const {
    std::string out;
    if (min || max) {
      std::string lo = min ? value_text(*min) : "", hi = max ? value_text(*max) : "";
      out = range_text(min ? &lo : nullptr, max ? &hi : nullptr);
    }
    if (!choices.empty()) out += (out.empty() ? "" : "; ") + choices_text(choice_texts());
    return out;
  }

  bool check(const L& value, const Node& found, const std::string& key, Diagnostics& diags) const {
    if constexpr (std::is_arithmetic_v<L>) {
      // Written as negations so that NaN is out of every range.
      if ((min && !(value >= *min)) || (max && !(value <= *max))) {
        std::string lo = min ? value_text(*min) : "", hi = max ? value_text(*max) : "";
        add_out_of_range(diags, key, found, value_text(value), range_text(min ? &lo : nullptr, max ? &hi : nullptr));
        return false;
      }
    }
    if (!choices.empty()) {
      bool listed = false;
      for (const auto& c : choices) listed = listed || c == value;
      if (!listed) {
        add_not_a_choice(diags, key, found, value_text(value), choice_texts(), std::is_same_v<L, std::string>);
        return false;
      }
    }
    return true;
  }

  std::vector<std::string> choice_texts() const {
    std::vector<std::string> out;
    for (const auto& c : choices) out.push_back(value_text(c));
    return out;
  }
};

struct NoConstraints {};
template <class L>
using ConstraintsFor = std::conditional_t<kIsScalarLeaf<L>, Constraints<L>, NoConstraints>;

// --- codecs: Node <-> C++ value ---

template <class V>
class Codec {
 public:
  virtual ~Codec() = default;
  // For help: "float", "list[float]", "optional[int]", a schema's name.
  virtual std::string type_name() const = 0;
  // For messages: "an int", "a list", "a map (encoder)", "a float or null".
  virtual std::string expected() const { return with_article(type_name()); }
  // Converts node into `value`, merging where the type merges (structs,
  // maps); on problems adds diagnostics under `key` and returns false
  // (`value` is then unspecified).
  virtual bool decode(const Node& node, const std::string& key, Diagnostics& diags, V& value) const = 0;
  virtual Node encode(const V& value) const = 0;
};

template <class L>
class ScalarCodec final : public Codec<L> {
 public:
  explicit ScalarCodec(std::shared_ptr<const Constraints<L>> constraints) : constraints_(std::move(constraints)) {}

  std::string type_name() const override {
    if constexpr (std::is_same_v<L, bool>) {
      return "bool";
    } else if constexpr (kIsInteger<L>) {
      return "int";
    } else if constexpr (std::is_floating_point_v<L>) {
      return "float";
    } else {
      return "string";
    }
  }

  bool decode(const Node& node, const std::string& key, Diagnostics& diags, L& value) const override {
    L parsed{};
    if (!convert(node, key, diags, parsed)) return false;
    if (constraints_ && !constraints_->check(parsed, node, key, diags)) return false;
    value = std::move(parsed);
    return true;
  }

  Node encode(const L& value) const override {
    if constexpr (std::is_same_v<L, bool>) {
      return Node::boolean(value);
    } else if constexpr (kIsInteger<L>) {
      if constexpr (std::is_unsigned_v<L> && sizeof(L) >= sizeof(std::int64_t)) {
        if (value > static_cast<L>(std::numeric_limits<std::int64_t>::max()))
          return Node::string(number_text(static_cast<std::uint64_t>(value)));
      }
      return Node::integer(static_cast<std::int64_t>(value));
    } else if constexpr (std::is_same_v<L, float>) {
      return Node::floating(float_to_double_shortest(value));
    } else if constexpr (std::is_floating_point_v<L>) {
      return Node::floating(static_cast<double>(value));
    } else {
      return Node::string(value);
    }
  }

 private:
  static bool convert(const Node& node, const std::string& key, Diagnostics& diags, L& out) {
    if constexpr (std::is_same_v<L, bool>) {
      return decode_bool(node, key, diags, out);
    } else if constexpr (std::is_same_v<L, std::string>) {
      return decode_string(node, key, diags, out);
    } else if constexpr (std::is_floating_point_v<L>) {
      double v = 0;
      if (!decode_double(node, key, diags, v)) return false;
      if constexpr (sizeof(L) < sizeof(double)) {
        if (std::isfinite(v) && std::fabs(v) > static_cast<double>(std::numeric_limits<L>::max())) {
          add_float_overflow(diags, key, node, v);
          return false;
        }
      }
      out = static_cast<L>(v);
      return true;
    } else {
      WideInt w;
      if (!decode_wide_int(node, key, diags, w)) return false;
      constexpr auto lo = static_cast<std::int64_t>(std::numeric_limits<L>::min());
      constexpr auto hi = static_cast<std::uint64_t>(std::numeric_limits<L>::max());
      if (!int_fits(w, lo, hi)) {
        add_integer_overflow(diags, key, node, integer_type_name<L>(), lo, hi);
        return false;
      }
      // C++20 defines the unsigned-to-signed conversion as modular, so
      // 0 - magnitude is exact for every fitting negative value.
      out = w.negative ? static_cast<L>(static_cast<std::int64_t>(0 - w.magnitude)) : static_cast<L>(w.magnitude);
      return true;
    }
  }

  std::shared_ptr<const Constraints<L>> constraints_;
};

template <class E>
class EnumCodec final : public Codec<E> {
 public:
  explicit EnumCodec(std::vector<std::pair<std::string, E>> names) : names_(std::move(names)) {}
  std::string type_name() const override { return "enum"; }
  std::string expected() const override { return "a string (" + choices_text(texts()) + ")"; }
  bool decode(const Node& node, const std::string& key, Diagnostics& diags, E& value) const override {
    if (node.is_missing()) {
      add_missing_value(diags, key, node.source(), expected(), false);
      return false;
    }
    if (!node.is_string()) {
      add_type_error(diags, key, node, expected());
      return false;
    }
    for (const auto& [name, v] : names_) {
      if (name == node.as_string()) {
        value = v;
        return true;
      }
    }
    add_not_a_choice(diags, key, node, node.as_string(), texts(), true);
    return false;
  }
  Node encode(const E& value) const override {
    for (const auto& [name, v] : names_)
      if (v == value) return Node::string(name);
    return Node::integer(static_cast<std::int64_t>(value));
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& entry : names_) out.push_back(entry.first);
    return out;
  }

 private:
  std::vector<std::pair<std::string, E>> names_;
};

class NodeCodec final : public Codec<Node> {
 public:
  std::string type_name() const override { return "any"; }
  bool decode(const Node& node, const std::string&, Diagnostics&, Node& value) const override {
    value = node;
    return true;
  }
  Node encode(const Node& value) const override { return value; }
};

template <class U>
class OptionalCodec final : public Codec<std::optional<U>> {
 public:
  explicit OptionalCodec(std::shared_ptr<const Codec<U>> inner) : inner_(std::move(inner)) {}
  std::string type_name() const override { return "optional[" + inner_->type_name() + "]"; }
  std::string expected() const override { return inner_->expected() + " or null"; }
  bool decode(const Node& node, const std::string& key, Diagnostics& diags, std::optional<U>& value) const override {
    if (node.is_null()) {
      value.reset();
      return true;
    }
    // A struct assigned over null starts from its defaults, as in OmegaConf.
    if (!value) value.emplace();
    Diagnostics inner;
    bool ok = inner_->decode(node, key, inner, *value);
    // The inner codec does not know null was allowed too: say so in its
    // type error for this very key ("expected a float or null, found ...").
    const std::string prefix = "expected " + inner_->expected() + ",";
    for (Diagnostic d : inner.items()) {
      if (d.key == key && d.message.compare(0, prefix.size(), prefix) == 0)
        d.message.insert(prefix.size() - 1, " or null");
      diags.add(std::move(d));
    }
    return ok;
  }
  Node encode(const std::optional<U>& value) const override { return value ? inner_->encode(*value) : Node::null(); }

 private:
  std::shared_ptr<const Codec<U>> inner_;
};

template <class V>
class VectorCodec final : public Codec<V> {
  using U = typename V::value_type;

 public:
  explicit VectorCodec(std::shared_ptr<const Codec<U>> inner) : inner_(std::move(inner)) {}
  std::string type_name() const override { return "list[" + inner_->type_name() + "]"; }
  std::string expected() const override { return "a list"; }
  bool decode(const Node& node, const std::string& key, Diagnostics& diags, V& value) const override {
    if (node.is_missing()) {
      add_missing_value(diags, key, node.source(), "a list", false);
      return false;
    }
    if (!node.is_list()) {
      add_type_error(diags, key, node, "a list");
      return false;
    }
    // Lists replace the default (OmegaConf's rule); each element starts
    // from a default-constructed value.
    V out;
    out.reserve(node.size());
    bool ok = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      U item{};
      ok = inner_->decode(node.at(i), index_key(key, i), diags, item) && ok;
      out.push_back(std::move(item));
    }
    if (ok) value = std::move(out);
    return ok;
  }
  Node encode(const V& value) const override {
    Node list = Node::list();
    for (const auto& item : value) list.push_back(inner_->encode(item));
    return list;
  }

 private:
  std::shared_ptr<const Codec<U>> inner_;
};

template <class M>
class MapCodec final : public Codec<M> {
  using U = typename M::mapped_type;

 public:
  explicit MapCodec(std::shared_ptr<const Codec<U>> inner) : inner_(std::move(inner)) {}
  std::string type_name() const override { return "map[string, " + inner_->type_name() + "]"; }
  std::string expected() const override { return "a map"; }
  bool decode(const Node& node, const std::string& key, Diagnostics& diags, M& value) const override {
    if (node.is_missing()) {
      add_missing_value(diags, key, node.source(), "a map", false);
      return false;
    }
    if (!node.is_map()) {
      add_type_error(diags, key, node, "a map");
      return false;
    }
    // Maps merge into the default entries key by key (OmegaConf's rule).
    bool ok = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      U& slot = value[node.keys()[i]];
      ok = inner_->decode(node.at(i), child_key(key, node.keys()[i]), diags, slot) && ok;
    }
    return ok;
  }
  Node encode(const M& value) const override {
    Node map = Node::map();
    for (const auto& [k, v] : value) map.set(k, inner_->encode(v));
    return map;
  }

 private:
  std::shared_ptr<const Codec<U>> inner_;
};

// Wraps the leaf codec in the optional/vector/map layers of M.
template <class M, class L>
std::shared_ptr<const Codec<M>> wrap_codec(std::shared_ptr<const Codec<L>> leaf) {
  if constexpr (std::is_same_v<M, L>) {
    return leaf;
  } else if constexpr (IsOptional<M>::value) {
    using U = typename M::value_type;
    return std::make_shared<const OptionalCodec<U>>(wrap_codec<U, L>(std::move(leaf)));
  } else if constexpr (IsVector<M>::value) {
    return std::make_shared<const VectorCodec<M>>(wrap_codec<typename M::value_type, L>(std::move(leaf)));
  } else if constexpr (IsStringMap<M>::value) {
    return std::make_shared<const MapCodec<M>>(wrap_codec<typename M::mapped_type, L>(std::move(leaf)));
  } else {
    static_assert(kDependentFalse<M>,
                  "unsupported container: use std::optional, std::vector or std::map<std::string, X>");
  }
}

}  // namespace kiln::config::schema_detail
