// The config tree: maps, lists and typed scalars, each knowing its source.
//
// A Node is a value type (copying copies the subtree). Maps keep insertion
// order, as YAML files and OmegaConf do. Strings keep their interpolations
// (`${...}`) unresolved; resolution is a separate pass (see resolve.h) so that
// `--cfg job` can print the config as written. The special string "???" is
// the Missing kind (OmegaConf's MISSING): it may be merged over, printed and
// completed by an override, but reading it through resolve or a schema is an
// error naming the key.
//
// Thread safety: none; a Node is owned by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/config/source.h"

namespace kiln::config {

enum class Kind { kNull, kBool, kInt, kFloat, kString, kMissing, kList, kMap };

// "null", "bool", "int", "float", "string", "missing value (???)", "list", "map".
const char* kind_name(Kind kind);

// How an incoming list is merged into an existing one at the same key.
// kDefault behaves as kReplace (OmegaConf's rule) unless the key was declared
// otherwise, by a YAML tag on the list (`!append`, `!prepend`, `!merge_by_index`,
// `!replace`) or by a schema.
enum class ListMerge { kDefault, kReplace, kAppend, kPrepend, kByIndex };

const char* list_merge_name(ListMerge mode);

class Node {
 public:
  Node() = default;  // null

  static Node null(Source source = {});
  static Node boolean(bool value, Source source = {});
  static Node integer(std::int64_t value, Source source = {});
  static Node floating(double value, Source source = {});
  static Node string(std::string value, Source source = {});
  static Node missing(Source source = {});
  static Node list(Source source = {});
  static Node map(Source source = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_missing() const { return kind_ == Kind::kMissing; }
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_container() const { return is_map() || is_list(); }
  bool is_scalar() const { return !is_container(); }
  bool is_string() const { return kind_ == Kind::kString; }
  // A string holding at least one unescaped "${".
  bool is_interpolation() const;

  // Scalar accessors; calling the wrong one is a bug (asserted).
  bool as_bool() const;
  std::int64_t as_int() const;
  double as_float() const;
  const std::string& as_string() const;

  // Scalar value as YAML would print it, unquoted: "1", "1.5e-05", "true",
  // "null", "???", or the string itself. Containers give "{...}" / "[...]".
  std::string scalar_text() const;

  const Source& source() const { return source_; }
  void set_source(Source source) { source_ = std::move(source); }
  // Sets the source on this node and every descendant.
  void set_source_recursive(const Source& source);

  ListMerge list_merge() const { return list_merge_; }
  void set_list_merge(ListMerge mode) { list_merge_ = mode; }

  // --- containers (maps and lists) ---
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  Node& at(std::size_t index) { return items_.at(index); }
  const Node& at(std::size_t index) const { return items_.at(index); }
  std::vector<Node>& items() { return items_; }
  const std::vector<Node>& items() const { return items_; }

  // --- maps ---
  const std::vector<std::string>& keys() const { return keys_; }
  // nullptr when absent (or when this is not a map).
  Node* find(std::string_view key);
  const Node* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // Inserts at the end or replaces in place (keeping the key's position).
  Node& set(std::string_view key, Node value);
  // Removes key; false when absent.
  bool erase(std::string_view key);
  // Index of key among keys(), or npos.
  std::size_t index_of(std::string_view key) const;

  // --- lists ---
  Node& push_back(Node value);

  // Structural equality of values (sources and merge modes are ignored;
  // int 1 and float 1.0 differ).
  friend bool operator==(const Node& a, const Node& b);
  friend bool operator!=(const Node& a, const Node& b) { return !(a == b); }

 private:
  Kind kind_ = Kind::kNull;
  ListMerge list_merge_ = ListMerge::kDefault;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double float_ = 0.0;
  std::string string_;
  std::vector<std::string> keys_;  // maps only, parallel to items_
  std::vector<Node> items_;        // map values or list elements
  Source source_;
};

// A key path such as optimizer.lr or trainer.callbacks[0], as segments.
// Map keys are segments; list indices are decimal segments.
using KeyPath = std::vector<std::string>;

// Dotted form with list indices in brackets when `node_kinds_root` says the
// parent is a list: "trainer.callbacks[0]". Without a root, all segments are
// joined with dots.
std::string format_key(const KeyPath& path, const Node* root = nullptr);

// Splits "a.b.0" or "a.b[0]" into segments. An empty string is the root.
KeyPath parse_key(std::string_view dotted);

// Follows path from root; nullptr when any segment is absent or indexes a
// scalar. List segments must be decimal indices.
const Node* select(const Node& root, const KeyPath& path);
Node* select(Node& root, const KeyPath& path);

// All keys of leaf values and containers below root, dotted ("a", "a.b",
// "a.list.0"), in tree order. Used for "did you mean" and completion.
std::vector<std::string> all_keys(const Node& root);

}  // namespace kiln::config
