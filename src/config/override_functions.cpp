// Evaluating function calls in override values: choice(), range() and
// glob() make sweeps; Hydra's other functions are refused by name.
#include <cmath>
#include <optional>
#include <string>

#include "kiln/config/override.h"
#include "override_grammar.h"

namespace kiln::config::override_grammar {
namespace {

[[noreturn]] void fail(std::size_t pos, std::string message, std::string hint = {}) {
  throw SyntaxError{pos, std::move(message), std::move(hint)};
}

Element make_range(std::string_view text, std::size_t name_pos, std::size_t end, std::vector<Argument>& args,
                   const Source& source) {
  static constexpr const char* kParams[] = {"start", "stop", "step"};
  std::optional<Element> values[3];
  std::size_t positional = 0;
  for (auto& arg : args) {
    int slot = -1;
    if (arg.name.empty()) {
      if (positional >= 3)
        fail(arg.value.pos,
             "range() takes at most 3 arguments (start, stop, step), found " + std::to_string(args.size()));
      slot = static_cast<int>(positional++);
    } else {
      for (int k = 0; k < 3; ++k)
        if (arg.name == kParams[k]) slot = k;
      if (slot < 0)
        fail(arg.value.pos, "range() has no argument named '" + arg.name + "'", "its arguments are start, stop, step");
    }
    if (values[slot]) fail(arg.value.pos, std::string("range() got two values for '") + kParams[slot] + "'");
    values[slot] = std::move(arg.value);
  }
  if (!values[0])
    fail(name_pos, values[1] ? "range() is missing 'start'" : "range() needs at least a stop value",
         "write range(stop), range(start, stop) or range(start, stop, step)");
  // range(n) counts from 0, as Python's range does: its one argument is the stop.
  const bool stop_only = !values[1];
  for (int k = 0; k < 3; ++k) {
    if (!values[k]) continue;
    const Node& v = *values[k]->node;
    if (v.kind() == Kind::kInt || v.kind() == Kind::kFloat) continue;
    std::string found = v.is_scalar() ? std::string(kind_name(v.kind())) + " '" + v.scalar_text() + "'"
                                      : std::string("a ") + kind_name(v.kind());
    fail(values[k]->pos,
         std::string("range() expects an int or float for '") + (k == 0 && stop_only ? "stop" : kParams[k]) +
             "', found " + found,
         "write range(stop), range(start, stop) or range(start, stop, step), e.g. range(0,10,2)");
  }
  Sweep sweep;
  sweep.kind = SweepKind::kRange;
  if (stop_only) {
    sweep.start = Node::integer(0, source);
    sweep.stop = std::move(*values[0]->node);
  } else {
    sweep.start = std::move(*values[0]->node);
    sweep.stop = std::move(*values[1]->node);
  }
  sweep.step = values[2] ? std::move(*values[2]->node) : Node::integer(1, source);
  bool zero = sweep.step.kind() == Kind::kInt ? sweep.step.as_int() == 0 : sweep.step.as_float() == 0.0;
  if (zero) fail(values[2]->pos, "range() step must not be zero");
  for (const Node* bound : {&sweep.start, &sweep.stop, &sweep.step}) {
    if (bound->kind() == Kind::kFloat && !std::isfinite(bound->as_float()))
      fail(name_pos, "range() bounds and step must be finite, found " + format_override_value(*bound));
  }
  sweep.text = std::string(text.substr(name_pos, end - name_pos));
  return {std::nullopt, std::move(sweep), name_pos};
}

Element make_glob(std::string_view text, std::size_t name_pos, std::size_t end, std::vector<Argument>& args) {
  std::optional<Element> include, exclude;
  std::size_t positional = 0;
  for (auto& arg : args) {
    std::optional<Element>* slot = nullptr;
    if (arg.name.empty()) {
      if (positional >= 2)
        fail(arg.value.pos,
             "glob() takes at most 2 arguments (include, exclude), found " + std::to_string(args.size()));
      slot = positional++ == 0 ? &include : &exclude;
    } else if (arg.name == "include") {
      slot = &include;
    } else if (arg.name == "exclude") {
      slot = &exclude;
    } else {
      fail(arg.value.pos, "glob() has no argument named '" + arg.name + "'", "its arguments are include, exclude");
    }
    if (*slot)
      fail(arg.value.pos,
           "glob() got two values for '" + (slot == &include ? std::string("include") : "exclude") + "'");
    *slot = std::move(arg.value);
  }
  if (!include) fail(name_pos, "glob() needs at least one pattern", "write glob(*) or glob([a*,b*])");
  auto patterns = [&](const Element& item, const char* what) {
    std::vector<std::string> out;
    const Node& v = *item.node;
    auto one = [&](const Node& p) {
      if (p.is_container() || p.is_null())
        fail(item.pos, std::string("glob() ") + what + " patterns must be strings, found a " + kind_name(p.kind()),
             "write glob(*), glob([cnn,mlp]) or glob(*,exclude=res*)");
      out.push_back(p.scalar_text());
    };
    if (v.is_list()) {
      for (const auto& p : v.items()) one(p);
    } else {
      one(v);
    }
    return out;
  };
  Sweep sweep;
  sweep.kind = SweepKind::kGlob;
  sweep.include = patterns(*include, "include");
  if (sweep.include.empty()) fail(include->pos, "glob() needs at least one include pattern, found []");
  if (exclude) sweep.exclude = patterns(*exclude, "exclude");
  sweep.text = std::string(text.substr(name_pos, end - name_pos));
  return {std::nullopt, std::move(sweep), name_pos};
}

}  // namespace

Element call_function(std::string_view text, std::size_t name_pos, std::size_t end, const std::string& name,
                      std::vector<Argument>& args, const Source& source) {
  for (const auto& arg : args)
    if (arg.value.sweep)
      fail(arg.value.pos, "a sweep cannot be an argument of " + name + "()", "sweeps cannot be nested");
  if (name == "choice") {
    for (const auto& arg : args)
      if (!arg.name.empty()) fail(arg.value.pos, "choice() takes no named arguments, found '" + arg.name + "='");
    if (args.empty()) fail(name_pos, "choice() needs at least one value", "write choice(a,b,...)");
    Sweep sweep;
    sweep.kind = SweepKind::kChoice;
    for (auto& arg : args) sweep.choices.push_back(std::move(*arg.value.node));
    sweep.text = std::string(text.substr(name_pos, end - name_pos));
    return {std::nullopt, std::move(sweep), name_pos};
  }
  if (name == "range") return make_range(text, name_pos, end, args, source);
  if (name == "glob") return make_glob(text, name_pos, end, args);
  static constexpr const char* kHydraOnly[] = {"interval", "tag",   "shuffle", "sort", "extend_list",
                                               "int",      "float", "str",     "bool", "json_str"};
  for (const char* other : kHydraOnly)
    if (name == other)
      fail(name_pos, "Hydra's function " + name + "() is not supported by kiln",
           "kiln's override functions are choice(), range() and glob(); see docs/config-overrides.md");
  fail(name_pos, "unknown function " + name + "()",
       "kiln's override functions are choice(), range() and glob(); to use '" + name +
           "(...)' as a string, quote it or escape the parentheses as \\( and \\)");
}

}  // namespace kiln::config::override_grammar
