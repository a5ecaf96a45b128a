// The resolve pass. It works on one mutable copy of the tree ("work"): an
// interpolation string, once resolved, is replaced in place by its value and
// marked done, so every interpolation is parsed and evaluated once however
// many others read it.
//
// Per node it tracks a state (idle, active, done, failed). "Active" nodes are
// on the stack of what is being resolved; meeting one again is a cycle,
// printed from the stack. "Failed" nodes already have their diagnostic:
// anything that reads them fails silently, so each root cause is reported
// once. Failures unwind with an internal exception (Failure) after the
// diagnostic is recorded; the happy path throws nothing.
//
// Reading a reference follows OmegaConf's laziness: to go through `b` in
// ${b.c} where b is ${a}, only a's node is needed (deref), not a copy of all
// of a; a full copy (deep-resolved first) is made only when a value is
// exactly ${a}. That is what keeps `a: {x: 1, y: ${b.x}}, b: ${a}` from
// being a false cycle.
#include "kiln/config/resolve.h"

#include <charconv>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "interpolation_parser.h"
#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "kiln/config/resolver.h"

namespace kiln::config {
namespace {

using interp::Element;
using interp::Interpolation;
using interp::Text;

struct Failure {};  // the diagnostic is already recorded

// A lookup failure thrown to a resolver's code: a ConfigError (so resolvers
// may catch it as one) whose diagnostics are already recorded.
class RecordedError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

enum class State : std::uint8_t { kIdle, kActive, kDone, kFailed };

// Longest chain of references (and nested containers) followed at once. Far
// beyond real configs; it keeps recursion on hostile input off the stack's end.
constexpr std::size_t kMaxDepth = 256;

struct Ref {
  Node* node = nullptr;
  KeyPath path;
  bool final = false;  // inside a value made by resolution: nothing below is resolved again
};

// The string whose interpolation is being evaluated; `text` is what the
// Interpolation offsets refer to (the string itself, or oc.decode's input).
struct Holder {
  const Ref& ref;
  const std::string& text;
  const Source& source;
};

struct Parsed {
  std::string original;
  Text text;
};

// How a referenced value is used; a missing value (???) may stay "???" only
// when it is the whole value.
enum class Use { kWhole, kInString, kArgument, kKey };

struct Located {
  enum Status { kFound, kAbsent, kNotContainer, kBadIndex, kMissing };
  Status status = kFound;
  Ref ref;  // kFound: the node; otherwise the deepest node reached
  std::size_t failed_segment = 0;
};

bool parse_index(const std::string& segment, std::size_t& index) {
  if (segment.empty()) return false;
  auto [ptr, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
  return ec == std::errc() && ptr == segment.data() + segment.size();
}

std::string dotted(const KeyPath& path) {
  std::string out;
  for (const auto& segment : path) {
    if (!out.empty()) out += '.';
    out += segment;
  }
  return out;
}

void stamp_unknown_sources(Node& node, const Source& source) {
  if (!node.source().known()) node.set_source(source);
  for (auto& item : node.items()) stamp_unknown_sources(item, source);
}

class Engine final : public ResolverLookup {
 public:
  Engine(const Node& original, Node& work, const ResolveOptions& options)
      : original_(original), work_(work), options_(options) {}

  const Diagnostics& diagnostics() const { return diagnostics_; }

  void resolve_all() {
    Ref root{&work_, {}, false};
    try {
      deep_resolve(root);
    } catch (const Failure&) {
    }
  }

  std::optional<Node> resolve_path(const KeyPath& path) {
    try {
      Located located = locate(Ref{&work_, {}, false}, path);
      if (located.status == Located::kMissing || located.status == Located::kFound) {
        Ref target = located.status == Located::kFound ? deref(located.ref) : located.ref;
        if (target.node->is_missing()) {
          if (options_.allow_missing) return Node::missing(target.node->source());
          missing_error(target, nullptr, nullptr);
        }
        if (target.node->is_container() && !target.final) deep_resolve(target);
        return *target.node;
      }
      diagnostics_.add(format_key(path, &work_), located.ref.node->source(),
                       "key '" + format_key(path, &work_) + "' does not exist" + absent_detail(located, path),
                       did_you_mean(dotted(path), candidate_keys()));
    } catch (const Failure&) {
    }
    return std::nullopt;
  }

  // --- ResolverLookup, for oc.select / oc.decode and custom resolvers ---

  std::optional<Node> select(std::string_view key) override {
    const Holder& holder = *holders_.back();
    try {
      int dots = 0;
      std::vector<std::string> segments;
      if (!interp::split_select_key(key, dots, segments)) {
        record(holder, "oc.select: '" + std::string(key) + "' is not a key", "write a key such as model.width or .x");
        throw Failure{};
      }
      Ref base = base_for(dots, holder, "oc.select:" + std::string(key));
      Located located = locate(base, segments);
      if (located.status != Located::kFound) return std::nullopt;
      Ref target = deref(located.ref);
      if (target.node->is_missing()) return std::nullopt;
      if (target.node->is_container() && !target.final) deep_resolve(target);
      return *target.node;
    } catch (const Failure&) {
      throw recorded_error(holder);
    }
  }

  // oc.decode reads its text as a command-line override value would be read
  // (kiln's override grammar), then resolves the interpolations in it
  // relative to the node holding the call: "[1, ${x}]" gives [1, x's value].
  Node decode(std::string_view text) override {
    const Holder& holder = *holders_.back();
    Node value;
    try {
      value = parse_override_value(text, holder.source);
    } catch (const ConfigError& e) {
      for (Diagnostic d : e.diagnostics()) {
        d.key = key_of(holder.ref.path);
        d.message = "oc.decode: " + d.message;
        diagnostics_.add(std::move(d));
      }
      throw recorded_error(holder);
    }
    try {
      resolve_decoded(value, holder);
    } catch (const Failure&) {
      throw recorded_error(holder);
    }
    return value;
  }

 private:
  // Marks a node active for the lifetime of one resolution step; on
  // unwinding it marks it failed.
  class Frame {
   public:
    Frame(Engine& engine, const Ref& ref) : engine_(engine), node_(ref.node) {
      if (engine_.stack_.size() >= kMaxDepth) engine_.too_deep(ref);
      engine_.states_[node_] = State::kActive;
      engine_.stack_.push_back({node_, &ref.path});
    }
    ~Frame() {
      engine_.stack_.pop_back();
      if (!finished_) engine_.states_[node_] = State::kFailed;
    }
    void finish(State state) {
      finished_ = true;
      engine_.states_[node_] = state;
    }
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;

   private:
    Engine& engine_;
    const Node* node_;
    bool finished_ = false;
  };

  struct StackEntry {
    const Node* node;
    const KeyPath* path;
  };

  State state(const Node* node) const {
    auto it = states_.find(node);
    return it == states_.end() ? State::kIdle : it->second;
  }

  std::string key_of(const KeyPath& path) const { return format_key(path, &work_); }

  static std::string slice(const Holder& holder, const Interpolation& in) {
    return holder.text.substr(in.begin, in.end - in.begin);
  }

  void record(const Holder& holder, std::string message, std::string hint = {}) {
    diagnostics_.add(key_of(holder.ref.path), holder.source, std::move(message), std::move(hint));
  }

  RecordedError recorded_error(const Holder& holder) const {
    if (!diagnostics_.empty()) return RecordedError(diagnostics_.items().back());
    return RecordedError(Diagnostic{key_of(holder.ref.path), holder.source, "a value it reads failed to resolve", {}});
  }

  const std::vector<std::string>& candidate_keys() {
    if (!all_keys_) all_keys_ = all_keys(original_);
    return *all_keys_;
  }

  // --- parsing ---

  const Parsed& parsed(const Ref& ref) {
    auto it = parse_cache_.find(ref.node);
    if (it != parse_cache_.end()) return *it->second;
    auto entry = std::make_unique<Parsed>();
    entry->original = ref.node->as_string();
    interp::ParseError error;
    if (!interp::parse_text(entry->original, entry->text, error)) {
      diagnostics_.add(key_of(ref.path), ref.node->source(),
                       "cannot parse the interpolation in '" + entry->original + "': " + error.message + " (column " +
                           std::to_string(error.position + 1) + ")",
                       "interpolations are ${key} or ${resolver:args}; write a literal '${' as '\\${'");
      states_[ref.node] = State::kFailed;
      throw Failure{};
    }
    return *parse_cache_.emplace(ref.node, std::move(entry)).first->second;
  }

  // --- cycles and missing values ---

  [[noreturn]] void cycle(const Ref& ref) {
    std::size_t start = 0;
    for (std::size_t i = stack_.size(); i-- > 0;) {
      if (stack_[i].node == ref.node) {
        start = i;
        break;
      }
    }
    std::string chain;
    for (std::size_t i = start; i < stack_.size(); ++i) chain += key_of(*stack_[i].path) + " -> ";
    chain += key_of(ref.path);
    // Blame the first interpolation of the loop, not a map that contains it.
    std::size_t blamed = start;
    while (blamed + 1 < stack_.size() && stack_[blamed].node->is_container()) ++blamed;
    std::string hint = "each of these needs the value of the next; give one of them a plain value";
    if (ref.node->is_container())
      hint =
          "'" + key_of(ref.path) + "' contains a value that needs all of '" + key_of(ref.path) + "', itself included";
    const Node* blamed_node = stack_[blamed].node;
    diagnostics_.add(key_of(*stack_[blamed].path), blamed_node->source(), "interpolation cycle: " + chain, hint);
    throw Failure{};
  }

  [[noreturn]] void too_deep(const Ref& ref) {
    states_[ref.node] = State::kFailed;
    diagnostics_.add(key_of(ref.path), ref.node->source(),
                     "interpolations and nested values go more than " + std::to_string(kMaxDepth) +
                         " levels deep here; is there a runaway chain of references?");
    throw Failure{};
  }

  [[noreturn]] void missing_error(const Ref& target, const Holder* holder, const Interpolation* in) {
    if (state(target.node) == State::kFailed) throw Failure{};
    states_[target.node] = State::kFailed;
    std::string key = key_of(target.path);
    std::string hint = "set it in a config file or with an override: " + key + "=VALUE";
    if (holder && in)
      hint = "needed by " + slice(*holder, *in) + " in '" + key_of(holder->ref.path) + "' (" + holder->source.str() +
             "); " + hint;
    diagnostics_.add(key, target.node->source(), "missing mandatory value: " + key, hint);
    throw Failure{};
  }

  // --- navigation ---

  // The container a relative reference starts from: 1 dot is the holder's
  // container, each further dot one level up.
  Ref base_for(int dots, const Holder& holder, const std::string& what) {
    if (dots == 0) return Ref{&work_, {}, false};
    const KeyPath& path = holder.ref.path;
    auto up = static_cast<std::size_t>(dots);
    if (up > path.size()) {
      record(holder,
             what + " goes " + std::to_string(dots - 1) + " level" + (dots == 2 ? "" : "s") + " up from '" +
                 key_of(path) + "', past the root of the config",
             "one dot is the map holding '" + key_of(path) + "'; use fewer dots or an absolute key");
      throw Failure{};
    }
    KeyPath base(path.begin(), path.end() - static_cast<std::ptrdiff_t>(up));
    Node* node = kiln::config::select(work_, base);
    return Ref{node ? node : &work_, std::move(base), false};
  }

  Located locate(Ref current, const std::vector<std::string>& segments) {
    for (std::size_t k = 0; k < segments.size(); ++k) {
      current = deref(std::move(current));
      Node& node = *current.node;
      Node* child = nullptr;
      if (node.is_missing()) return Located{Located::kMissing, std::move(current), k};
      if (node.is_map()) {
        child = node.find(segments[k]);
        if (!child) return Located{Located::kAbsent, std::move(current), k};
      } else if (node.is_list()) {
        std::size_t index = 0;
        if (!parse_index(segments[k], index)) return Located{Located::kBadIndex, std::move(current), k};
        if (index >= node.size()) return Located{Located::kAbsent, std::move(current), k};
        child = &node.at(index);
      } else {
        return Located{Located::kNotContainer, std::move(current), k};
      }
      current.path.push_back(segments[k]);
      current.node = child;
    }
    return Located{Located::kFound, std::move(current), segments.size()};
  }

  std::string absent_detail(const Located& located, const std::vector<std::string>& segments) const {
    const Node& at = *located.ref.node;
    std::string where = located.ref.path.empty() ? "the root" : "'" + key_of(located.ref.path) + "'";
    switch (located.status) {
      case Located::kAbsent:
        if (at.is_list())
          return " (" + where + " is a list of " + std::to_string(at.size()) + " element" +
                 (at.size() == 1 ? "" : "s") + ")";
        return "";
      case Located::kNotContainer:
        return ": " + where + " is " + kind_name(at.kind()) + " " + interpolation_text(at) +
               ", not a map or list, so it has no '" + segments[located.failed_segment] + "'";
      case Located::kBadIndex:
        return ": " + where + " is a list and '" + segments[located.failed_segment] + "' is not an index";
      default: return "";
    }
  }

  // Follows a value to the node that holds it: through references (${a}
  // is a's node) without copying, resolving any other interpolation in place.
  Ref deref(Ref ref) {
    if (ref.final || !ref.node->is_string()) return ref;
    State s = state(ref.node);
    if (s == State::kDone) {
      ref.final = true;
      return ref;
    }
    if (s == State::kFailed) throw Failure{};
    if (!interp::has_interpolation_syntax(ref.node->as_string())) return ref;
    if (s == State::kActive) cycle(ref);
    const Parsed& p = parsed(ref);
    if (!p.text.single_interpolation() || p.text.pieces[0].interpolation->kind != Interpolation::Kind::kNode) {
      resolve_slot(ref);
      ref.final = true;
      return ref;
    }
    Frame frame(*this, ref);
    Source source = ref.node->source();
    Holder holder{ref, p.original, source};
    const Interpolation& in = *p.text.pieces[0].interpolation;
    Located located = locate_reference(in, holder);
    Ref result = located.status == Located::kFound ? deref(std::move(located.ref)) : std::move(located.ref);
    frame.finish(State::kIdle);
    return result;
  }

  // The node a ${key} names (or the missing node it runs into); records and
  // throws when the key does not exist.
  Located locate_reference(const Interpolation& in, const Holder& holder) {
    std::vector<std::string> segments = key_segments(in, holder);
    Ref base = base_for(in.dots, holder, slice(holder, in));
    KeyPath target_path = base.path;
    Located located = locate(std::move(base), segments);
    if (located.status == Located::kFound || located.status == Located::kMissing) return located;
    target_path.insert(target_path.end(), segments.begin(), segments.end());
    std::string target = key_of(target_path);
    record(holder,
           slice(holder, in) + " refers to '" + target + "', which does not exist" + absent_detail(located, segments),
           did_you_mean(dotted(target_path), candidate_keys()));
    throw Failure{};
  }

  // Key segments of a reference; a nested ${...} must give a string, which
  // may itself hold several segments ("x.y").
  std::vector<std::string> key_segments(const Interpolation& in, const Holder& holder) {
    std::vector<std::string> segments;
    for (const auto& part : in.parts) {
      if (!part.interpolation) {
        segments.push_back(part.name);
        continue;
      }
      Node value = evaluate(*part.interpolation, holder, Use::kKey);
      if (!value.is_string()) {
        record(holder, "the key part " + slice(holder, *part.interpolation) + " of " + slice(holder, in) +
                           " must give a string, but gave " + kind_name(value.kind()) + " " +
                           interpolation_text(value));
        throw Failure{};
      }
      int dots = 0;
      std::vector<std::string> inner;
      if (!interp::split_select_key(value.as_string(), dots, inner) || dots > 0) {
        record(holder, "the key part " + slice(holder, *part.interpolation) + " of " + slice(holder, in) + " gave '" +
                           value.as_string() + "', which is not a key");
        throw Failure{};
      }
      segments.insert(segments.end(), inner.begin(), inner.end());
    }
    return segments;
  }

  // --- resolution ---

  void resolve_slot(const Ref& ref) {
    State s = state(ref.node);
    if (s == State::kDone) return;
    if (s == State::kFailed) throw Failure{};
    if (s == State::kActive) cycle(ref);
    const Parsed& p = parsed(ref);
    Frame frame(*this, ref);
    Source source = ref.node->source();
    Holder holder{ref, p.original, source};
    Node value = evaluate_text(p.text, holder, false);
    value.set_source(source);
    stamp_unknown_sources(value, source);
    *ref.node = std::move(value);
    frame.finish(State::kDone);
  }

  void deep_resolve(const Ref& container) {
    if (container.final) return;
    State s = state(container.node);
    if (s == State::kDone) return;
    if (s == State::kFailed) throw Failure{};
    if (s == State::kActive) cycle(container);
    Frame frame(*this, container);
    bool failed = false;
    Node& node = *container.node;
    for (std::size_t i = 0; i < node.size(); ++i) {
      Node& child = node.items()[i];
      bool interpolated = child.is_string() && interp::has_interpolation_syntax(child.as_string());
      bool missing = child.is_missing() && !options_.allow_missing;
      if (!child.is_container() && !interpolated && !missing && state(&child) == State::kIdle) continue;
      Ref ref{&child, container.path, false};
      ref.path.push_back(node.is_map() ? node.keys()[i] : std::to_string(i));
      try {
        if (state(&child) == State::kDone) continue;
        if (state(&child) == State::kFailed) throw Failure{};
        if (child.is_container()) {
          deep_resolve(ref);
        } else if (interpolated) {
          resolve_slot(ref);
        } else if (missing) {
          missing_error(ref, nullptr, nullptr);
        }
      } catch (const Failure&) {
        failed = true;
      }
    }
    if (failed) throw Failure{};
    frame.finish(State::kDone);
  }

  void resolve_decoded(Node& value, const Holder& holder) {
    if (value.is_string() && interp::has_interpolation_syntax(value.as_string())) {
      std::string text = value.as_string();
      Text parsed_text;
      interp::ParseError error;
      if (!interp::parse_text(text, parsed_text, error)) {
        record(holder, "oc.decode: cannot parse the interpolation in '" + text + "': " + error.message + " (column " +
                           std::to_string(error.position + 1) + ")");
        throw Failure{};
      }
      Holder inner{holder.ref, text, holder.source};
      Source source = value.source();
      value = evaluate_text(parsed_text, inner, false);
      value.set_source(source);
      return;
    }
    for (auto& item : value.items()) resolve_decoded(item, holder);
  }

  Node evaluate_text(const Text& text, const Holder& holder, bool force_string) {
    if (!force_string && text.single_interpolation())
      return evaluate(*text.pieces[0].interpolation, holder, Use::kWhole);
    std::string out;
    for (const auto& piece : text.pieces) {
      if (!piece.interpolation) {
        out += piece.literal;
        continue;
      }
      Node value = evaluate(*piece.interpolation, holder, Use::kInString);
      out += interpolation_text(value);
    }
    return Node::string(std::move(out));
  }

  Node evaluate(const Interpolation& in, const Holder& holder, Use use) {
    if (in.kind == Interpolation::Kind::kResolver) return call(in, holder);
    Located located = locate_reference(in, holder);
    Ref target = located.status == Located::kFound ? deref(std::move(located.ref)) : std::move(located.ref);
    if (target.node->is_missing()) {
      if (!options_.allow_missing) missing_error(target, &holder, &in);
      if (use != Use::kWhole) {
        const char* how = use == Use::kInString ? "used inside a string"
                          : use == Use::kKey    ? "used as a key"
                                                : "passed to a resolver";
        record(holder,
               slice(holder, in) + " reads '" + key_of(target.path) + "', a missing mandatory value (??\?), which " +
                   "cannot be " + how,
               "set " + key_of(target.path) + " in a config file or with an override");
        throw Failure{};
      }
      return Node::missing(target.node->source());
    }
    if (target.node->is_container() && !target.final) deep_resolve(target);
    return *target.node;
  }

  Node evaluate_element(const Element& element, const Holder& holder) {
    switch (element.kind) {
      case Element::Kind::kValue: return element.value;
      case Element::Kind::kText: return evaluate_text(element.text, holder, true);
      case Element::Kind::kInterpolation: return evaluate(*element.interpolation, holder, Use::kArgument);
      case Element::Kind::kList: {
        Node list = Node::list();
        for (const auto& item : element.items) list.push_back(evaluate_element(item, holder));
        return list;
      }
      case Element::Kind::kMap: {
        Node map = Node::map();
        for (std::size_t i = 0; i < element.items.size(); ++i)
          map.set(element.keys[i], evaluate_element(element.items[i], holder));
        return map;
      }
    }
    return {};
  }

  std::string resolver_name(const Interpolation& in, const Holder& holder) {
    std::string name;
    for (const auto& part : in.parts) {
      if (!name.empty()) name += '.';
      if (!part.interpolation) {
        name += part.name;
        continue;
      }
      Node value = evaluate(*part.interpolation, holder, Use::kKey);
      if (!value.is_string()) {
        record(holder, "the resolver name part " + slice(holder, *part.interpolation) +
                           " must give a string, but gave " + kind_name(value.kind()) + " " +
                           interpolation_text(value));
        throw Failure{};
      }
      name += value.as_string();
    }
    return name;
  }

  Node call(const Interpolation& in, const Holder& holder) {
    std::string name = resolver_name(in, holder);
    if (!has_resolver(name)) unknown_resolver(name, in, holder);
    std::vector<Node> args;
    args.reserve(in.args.size());
    for (const auto& arg : in.args) args.push_back(evaluate_element(arg, holder));
    ResolverContext context{original_, holder.ref.path, holder.source, options_, this};
    holders_.push_back(&holder);
    struct Pop {
      std::vector<const Holder*>& holders;
      ~Pop() { holders.pop_back(); }
    } pop{holders_};
    std::optional<Node> result;
    try {
      result = call_resolver(name, args, context);
    } catch (const RecordedError&) {
      throw Failure{};
    } catch (const ConfigError& e) {
      for (Diagnostic d : e.diagnostics()) {
        if (d.key.empty()) d.key = key_of(holder.ref.path);
        if (!d.source.known()) d.source = holder.source;
        diagnostics_.add(std::move(d));
      }
      throw Failure{};
    } catch (const Failure&) {
      throw;
    } catch (const std::exception& e) {
      record(holder, "resolver '" + name + "' failed in " + slice(holder, in) + ": " + e.what());
      throw Failure{};
    }
    if (!result) unknown_resolver(name, in, holder);  // unregistered meanwhile
    return std::move(*result);
  }

  [[noreturn]] void unknown_resolver(const std::string& name, const Interpolation& in, const Holder& holder) {
    auto names = resolver_names();
    std::string hint = did_you_mean(name, names);
    if (hint.empty()) {
      hint = "known resolvers: ";
      for (std::size_t i = 0; i < names.size(); ++i) hint += (i ? ", " : "") + names[i];
    }
    record(holder, "unknown resolver '" + name + "' in " + slice(holder, in), hint);
    throw Failure{};
  }

  const Node& original_;
  Node& work_;
  const ResolveOptions& options_;
  Diagnostics diagnostics_;
  std::unordered_map<const Node*, State> states_;
  std::unordered_map<const Node*, std::unique_ptr<Parsed>> parse_cache_;
  std::vector<StackEntry> stack_;
  std::vector<const Holder*> holders_;
  std::optional<std::vector<std::string>> all_keys_;
};

}  // namespace

Node resolve(const Node& root, const ResolveOptions& options) {
  Node work = root;
  Engine engine(root, work, options);
  engine.resolve_all();
  engine.diagnostics().throw_if_any();
  return work;
}

Node resolve_at(const Node& root, const KeyPath& path, const ResolveOptions& options) {
  Node work = root;
  Engine engine(root, work, options);
  std::optional<Node> value = engine.resolve_path(path);
  engine.diagnostics().throw_if_any();
  return value ? std::move(*value) : Node{};
}

}  // namespace kiln::config
