// Applying key overrides to a composed config, with Hydra's rules and
// kiln's errors (what, where, expected, did-you-mean).
#include <charconv>
#include <cmath>
#include <string>

#include "kiln/config/error.h"
#include "kiln/config/override.h"

namespace kiln::config {
namespace {

[[noreturn]] void fail(const Override& o, const std::string& key, std::string message, std::string hint = {}) {
  throw ConfigError(Diagnostic{key, o.source, std::move(message), std::move(hint)});
}

// "float 0.001", "string 'adam'", "null", "a list of 3 items".
std::string describe(const Node& n) {
  switch (n.kind()) {
    case Kind::kNull: return "null";
    case Kind::kMissing: return "missing (??\?)";
    case Kind::kString: return "string '" + n.as_string() + "'";
    case Kind::kList: return "a list of " + std::to_string(n.size()) + (n.size() == 1 ? " item" : " items");
    case Kind::kMap: return "a map";
    default: return std::string(kind_name(n.kind())) + " " + n.scalar_text();
  }
}

std::string where(const Node& n) { return n.source().known() ? ", set at " + n.source().str() : std::string(); }

std::string join(const std::string& parent, const std::string& segment) {
  return parent.empty() ? segment : parent + "." + segment;
}

// The text after the first '=' of the override, as typed.
std::string value_text(const Override& o) {
  auto eq = o.text.find('=');
  return eq == std::string::npos ? std::string() : o.text.substr(eq + 1);
}

bool parse_index(const std::string& segment, std::size_t& index) {
  if (segment.empty()) return false;
  auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
  return ec == std::errc() && p == segment.data() + segment.size();
}

// Python's ==, which ~key=value uses: 1 equals 1.0, map key order is ignored.
bool values_match(const Node& a, const Node& b) {
  auto number = [](const Node& n, double& out) {
    if (n.kind() == Kind::kInt) return out = static_cast<double>(n.as_int()), true;
    if (n.kind() == Kind::kFloat) return out = n.as_float(), true;
    return false;
  };
  double x = 0, y = 0;
  if (a.kind() != b.kind() && number(a, x) && number(b, y)) return x == y;
  if (a.kind() != b.kind()) return false;
  if (a.is_list()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!values_match(a.at(i), b.at(i))) return false;
    return true;
  }
  if (a.is_map()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const Node* other = b.find(a.keys()[i]);
      if (!other || !values_match(a.at(i), *other)) return false;
    }
    return true;
  }
  return a == b;
}

// OmegaConf's merge, as Hydra's OmegaConf.update(merge=True) does it: maps
// merge key by key, a ??? leaves what is there, anything else replaces.
void merge_map(Node& dst, const Node& src) {
  for (std::size_t i = 0; i < src.size(); ++i) {
    const std::string& key = src.keys()[i];
    const Node& value = src.at(i);
    Node* existing = dst.find(key);
    if (existing && existing->is_map() && value.is_map()) {
      merge_map(*existing, value);
    } else if (!(existing && value.is_missing())) {
      dst.set(key, value);
    }
  }
}

void assign(Node& target, const Node& value) {
  if (target.is_map() && value.is_map()) {
    merge_map(target, value);
    return;
  }
  Node copy = value;
  // A list keeps the merge mode declared for its key.
  if (target.is_list() && copy.is_list()) copy.set_list_merge(target.list_merge());
  target = std::move(copy);
}

class Applier {
 public:
  Applier(Node& root, const Override& o) : root_(root), o_(o), key_(format_key(parse_key(o.key), &root)) {}

  void run();

 private:
  std::string verb() const {
    switch (o_.op) {
      case OverrideOp::kAdd: return "add";
      case OverrideOp::kDelete: return "delete";
      default: return "override";
    }
  }
  std::string could_not() const { return "Could not " + verb() + " '" + o_.key + "'"; }
  Node* child_of(Node& parent, const std::string& segment, const std::string& parent_key);
  [[noreturn]] void fail_not_found();
  [[noreturn]] void fail_exists(const Node& existing);

  Node& root_;
  const Override& o_;
  std::string key_;  // for Diagnostic.key: "trainer.gpus[0]"
};

// The child at `segment`, or nullptr when a map lacks it. Lists need an
// index within range.
Node* Applier::child_of(Node& parent, const std::string& segment, const std::string& parent_key) {
  if (parent.is_map()) return parent.find(segment);
  std::size_t index = 0;
  if (!parse_index(segment, index))
    fail(o_, key_, could_not() + ": '" + parent_key + "' is a list, so '" + segment + "' is not a valid index",
         "index lists with a number: '" + join(parent_key, "0") + "'");
  if (index >= parent.size())
    fail(o_, key_,
         could_not() + ": index " + segment + " is out of range for '" + parent_key + "', " + describe(parent),
         parent.empty() ? "the list is empty; set the whole list instead, e.g. '" + parent_key + "=[...]'"
                        : "valid indices are 0 to " + std::to_string(parent.size() - 1) +
                              "; to grow the list, set the whole list: '" + parent_key + "=[...]'");
  return &parent.at(index);
}

void Applier::fail_not_found() {
  std::string hint = did_you_mean(o_.key, all_keys(root_));
  if (o_.op == OverrideOp::kSet) {
    std::string add = "'+" + o_.text + "'";
    hint = hint.empty() ? "to add it as a new key, use " + add : hint + " To add it as a new key, use " + add;
  }
  fail(o_, key_, could_not() + ": key not found", hint);
}

void Applier::fail_exists(const Node& existing) {
  std::string value = value_text(o_);
  fail(o_, key_, could_not() + ": an item is already there (" + describe(existing) + where(existing) + ")",
       "to override it, remove the + prefix: '" + o_.key + "=" + value + "'; to add or override, use two: '++" +
           o_.key + "=" + value + "'");
}

void Applier::run() {
  if (o_.is_sweep())
    fail(o_, key_, "Could not apply '" + o_.text + "': its value is a sweep (" + o_.sweep->text + ")",
         "sweeps need --multirun (-m), which runs one job per value");
  if (!o_.package.empty() || o_.key.find('/') != std::string::npos)
    fail(o_, key_,
         "Could not override '" + o_.key_text() + "': it looks like a config group selection, but there is no " +
             "config group '" + o_.key + "'",
         "a config group is a directory of option files in the config search path");
  if (o_.op != OverrideOp::kDelete && !o_.value)
    fail(o_, key_, could_not() + ": the override has no value", "write key=value");
  if (!root_.is_map()) fail(o_, key_, could_not() + ": the config is " + describe(root_) + ", not a map");

  KeyPath path = parse_key(o_.key);
  const bool create = o_.op == OverrideOp::kAdd || o_.op == OverrideOp::kForceAdd;
  Node* parent = &root_;
  std::string parent_key;
  for (std::size_t k = 0; k + 1 < path.size(); ++k) {
    const std::string& segment = path[k];
    const std::string here = join(parent_key, segment);
    Node* child = child_of(*parent, segment, parent_key);
    if (!child) {
      if (!create) fail_not_found();
      child = &parent->set(segment, Node::map(o_.source));
    } else if (child->is_null() || child->is_missing()) {
      if (!create)
        fail(o_, key_,
             could_not() + ": '" + here + "' is " + describe(*child) + ", so it has no key '" + path[k + 1] + "'",
             o_.op == OverrideOp::kSet ? "'+" + o_.text + "' replaces it with a map holding the key" : std::string());
      *child = Node::map(o_.source);  // as OmegaConf.update(force_add=True) does
    } else if (!child->is_container()) {
      fail(o_, key_, could_not() + ": '" + here + "' is " + describe(*child) + where(*child) + ", not a map or list",
           "only maps and lists have keys inside them; to replace '" + here + "' itself, set it: '" + here + "={" +
               path[k + 1] + ": ...}'");
    }
    parent = child;
    parent_key = here;
  }

  const std::string& last = path.back();
  Node* target = child_of(*parent, last, parent_key);
  switch (o_.op) {
    case OverrideOp::kSet:
      if (!target) fail_not_found();
      assign(*target, *o_.value);
      break;
    case OverrideOp::kAdd:
      if (target) fail_exists(*target);
      parent->set(last, *o_.value);
      break;
    case OverrideOp::kForceAdd:
      if (target) {
        assign(*target, *o_.value);
      } else {
        parent->set(last, *o_.value);
      }
      break;
    case OverrideOp::kDelete:
      if (!target) fail_not_found();
      if (o_.value && !values_match(*target, *o_.value))
        fail(o_, key_,
             could_not() + ": its value is " + format_override_value(*target) + " and not " +
                 format_override_value(*o_.value),
             "'~" + o_.key + "' deletes it whatever its value");
      if (parent->is_map()) {
        parent->erase(last);
      } else {
        std::size_t index = 0;
        parse_index(last, index);
        parent->items().erase(parent->items().begin() + static_cast<std::ptrdiff_t>(index));
      }
      break;
  }
}

}  // namespace

void apply_overrides(Node& config, const std::vector<Override>& overrides) {
  Diagnostics diagnostics;
  for (const auto& o : overrides) diagnostics.collect([&] { Applier(config, o).run(); });
  diagnostics.throw_if_any();
}

}  // namespace kiln::config
