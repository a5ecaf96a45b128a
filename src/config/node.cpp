#include "kiln/config/node.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace kiln::config {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "string";
    case Kind::kMissing: return "missing value (\?\?\?)";
    case Kind::kList: return "list";
    case Kind::kMap: return "map";
  }
  return "?";
}

const char* list_merge_name(ListMerge mode) {
  switch (mode) {
    case ListMerge::kDefault: return "default";
    case ListMerge::kReplace: return "replace";
    case ListMerge::kAppend: return "append";
    case ListMerge::kPrepend: return "prepend";
    case ListMerge::kByIndex: return "merge_by_index";
  }
  return "?";
}

Node Node::null(Source source) {
  Node n;
  n.source_ = std::move(source);
  return n;
}
Node Node::boolean(bool value, Source source) {
  Node n = null(std::move(source));
  n.kind_ = Kind::kBool;
  n.bool_ = value;
  return n;
}
Node Node::integer(std::int64_t value, Source source) {
  Node n = null(std::move(source));
  n.kind_ = Kind::kInt;
  n.int_ = value;
  return n;
}
Node Node::floating(double value, Source source) {
  Node n = null(std::move(source));
  n.kind_ = Kind::kFloat;
  n.float_ = value;
  return n;
}
Node Node::string(std::string value, Source source) {
  Node n = null(std::move(source));
  // OmegaConf treats the string "???" as MISSING wherever it appears.
  n.kind_ = value == "???" ? Kind::kMissing : Kind::kString;
  n.string_ = std::move(value);
  return n;
}
Node Node::missing(Source source) { return string("???", std::move(source)); }
Node Node::list(Source source) {
  Node n = null(std::move(source));
  n.kind_ = Kind::kList;
  return n;
}
Node Node::map(Source source) {
  Node n = null(std::move(source));
  n.kind_ = Kind::kMap;
  return n;
}

bool Node::is_interpolation() const {
  if (kind_ != Kind::kString) return false;
  for (std::size_t i = 0; i + 1 < string_.size(); ++i) {
    if (string_[i] == '\\') {
      ++i;  // an escaped character, "\${" included, is literal
      continue;
    }
    if (string_[i] == '$' && string_[i + 1] == '{') return true;
  }
  return false;
}

bool Node::as_bool() const {
  assert(kind_ == Kind::kBool);
  return bool_;
}
std::int64_t Node::as_int() const {
  assert(kind_ == Kind::kInt);
  return int_;
}
double Node::as_float() const {
  assert(kind_ == Kind::kFloat);
  return float_;
}
const std::string& Node::as_string() const {
  assert(kind_ == Kind::kString || kind_ == Kind::kMissing);
  return string_;
}

namespace {
// Shortest text that reads back as the same double, always recognisable as a
// float (1.0, not 1), with YAML's spellings of the special values.
std::string float_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  // "1e-05" has no dot; YAML 1.1 readers (PyYAML) need one before the exponent.
  auto e = s.find('e');
  if (e != std::string::npos && s.find('.') == std::string::npos) s.insert(e, ".0");
  return s;
}
}  // namespace

std::string Node::scalar_text() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return bool_ ? "true" : "false";
    case Kind::kInt: return std::to_string(int_);
    case Kind::kFloat: return float_text(float_);
    case Kind::kString:
    case Kind::kMissing: return string_;
    case Kind::kList: return "[...]";
    case Kind::kMap: return "{...}";
  }
  return "";
}

void Node::set_source_recursive(const Source& source) {
  source_ = source;
  for (auto& item : items_) item.set_source_recursive(source);
}

Node* Node::find(std::string_view key) {
  std::size_t i = index_of(key);
  return i == std::string::npos ? nullptr : &items_[i];
}
const Node* Node::find(std::string_view key) const {
  std::size_t i = index_of(key);
  return i == std::string::npos ? nullptr : &items_[i];
}
std::size_t Node::index_of(std::string_view key) const {
  if (kind_ != Kind::kMap) return std::string::npos;
  for (std::size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return i;
  return std::string::npos;
}
Node& Node::set(std::string_view key, Node value) {
  assert(kind_ == Kind::kMap);
  std::size_t i = index_of(key);
  if (i != std::string::npos) {
    items_[i] = std::move(value);
    return items_[i];
  }
  keys_.emplace_back(key);
  items_.push_back(std::move(value));
  return items_.back();
}
bool Node::erase(std::string_view key) {
  std::size_t i = index_of(key);
  if (i == std::string::npos) return false;
  keys_.erase(keys_.begin() + static_cast<std::ptrdiff_t>(i));
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}
Node& Node::push_back(Node value) {
  assert(kind_ == Kind::kList);
  items_.push_back(std::move(value));
  return items_.back();
}

bool operator==(const Node& a, const Node& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Kind::kNull: return true;
    case Kind::kBool: return a.bool_ == b.bool_;
    case Kind::kInt: return a.int_ == b.int_;
    case Kind::kFloat: return a.float_ == b.float_ || (std::isnan(a.float_) && std::isnan(b.float_));
    case Kind::kString:
    case Kind::kMissing: return a.string_ == b.string_;
    case Kind::kList:
    case Kind::kMap: return a.keys_ == b.keys_ && a.items_ == b.items_;
  }
  return false;
}

std::string format_key(const KeyPath& path, const Node* root) {
  std::string out;
  const Node* node = root;
  for (const auto& segment : path) {
    if (node && node->is_list()) {
      out += '[' + segment + ']';
    } else {
      if (!out.empty()) out += '.';
      out += segment;
    }
    if (node) {
      if (node->is_map()) {
        node = node->find(segment);
      } else if (node->is_list()) {
        std::size_t index = 0;
        auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
        node = (ec == std::errc() && index < node->size()) ? &node->at(index) : nullptr;
      } else {
        node = nullptr;
      }
    }
  }
  return out;
}

KeyPath parse_key(std::string_view dotted) {
  KeyPath path;
  std::string current;
  for (std::size_t i = 0; i < dotted.size(); ++i) {
    char c = dotted[i];
    if (c == '.') {
      path.push_back(std::move(current));
      current.clear();
    } else if (c == '[') {
      if (!current.empty()) path.push_back(std::move(current));
      current.clear();
      auto close = dotted.find(']', i);
      if (close == std::string_view::npos) close = dotted.size();
      path.emplace_back(dotted.substr(i + 1, close - i - 1));
      i = close;
      if (i + 1 < dotted.size() && dotted[i + 1] == '.') ++i;
      if (i + 1 >= dotted.size()) return path;
    } else {
      current += c;
    }
  }
  if (!dotted.empty()) path.push_back(std::move(current));
  return path;
}

namespace {
template <class N>
N* select_impl(N& root, const KeyPath& path) {
  N* node = &root;
  for (const auto& segment : path) {
    if (node->is_map()) {
      node = node->find(segment);
    } else if (node->is_list()) {
      std::size_t index = 0;
      auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
      if (ec != std::errc() || p != segment.data() + segment.size() || index >= node->size()) return nullptr;
      node = &node->at(index);
    } else {
      return nullptr;
    }
    if (!node) return nullptr;
  }
  return node;
}

void collect_keys(const Node& node, const std::string& prefix, std::vector<std::string>& out) {
  if (node.is_map()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string key = prefix.empty() ? node.keys()[i] : prefix + "." + node.keys()[i];
      out.push_back(key);
      collect_keys(node.at(i), key, out);
    }
  } else if (node.is_list()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string key = prefix + "." + std::to_string(i);
      out.push_back(key);
      collect_keys(node.at(i), key, out);
    }
  }
}
}  // namespace

const Node* select(const Node& root, const KeyPath& path) { return select_impl(root, path); }
Node* select(Node& root, const KeyPath& path) { return select_impl(root, path); }

std::vector<std::string> all_keys(const Node& root) {
  std::vector<std::string> out;
  collect_keys(root, "", out);
  return out;
}

}  // namespace kiln::config
