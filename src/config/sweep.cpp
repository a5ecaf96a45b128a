// Enumerating sweeps and expanding a multirun into jobs (Hydra's
// BasicSweeper). Values are computed eagerly, which is why sweep.h caps them;
// range() values come from sweep_range.cpp.
#include "kiln/config/sweep.h"

#include <string>

#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "sweep_range.h"

namespace kiln::config {
namespace {

[[noreturn]] void fail(const Override& o, std::string message, std::string hint = {}) {
  throw ConfigError(Diagnostic{o.key, o.source, std::move(message), std::move(hint)});
}

std::string too_many(const Override& o, const std::string& count) {
  return "'" + o.sweep->text + "' has " + count + " values; kiln enumerates at most " +
         std::to_string(kMaxSweepValues) + " per sweep";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::vector<Node> glob_values(const Override& o, const GroupOptions& options) {
  const Sweep& s = *o.sweep;
  if (!options)
    fail(o, "'" + s.text + "' needs the options of config group '" + o.key + "', but none are available here",
         "glob() only works on config groups during composition");
  std::vector<std::string> names = options(o.key);
  auto any = [](const std::vector<std::string>& patterns, const std::string& name) {
    for (const auto& p : patterns)
      if (glob_match(p, name)) return true;
    return false;
  };
  std::vector<Node> out;
  for (const auto& name : names)
    if (any(s.include, name) && !any(s.exclude, name)) out.push_back(Node::string(name, o.source));
  if (out.empty()) {
    if (names.empty())
      fail(o, "'" + s.text + "' matched nothing: config group '" + o.key + "' has no options",
           "is '" + o.key + "' a config group (a directory of option files)?");
    fail(o, "'" + s.text + "' matched none of the options of config group '" + o.key + "' (" + joined(names) + ")",
         "glob patterns use * (any text), ? (one character) and [abc]; matching is case-sensitive");
  }
  if (out.size() > kMaxSweepValues) fail(o, too_many(o, std::to_string(out.size())));
  return out;
}

// One job's copy of a sweep override, holding one of its values.
Override job_override(const Override& o, const Node& value) {
  Override j;
  j.op = o.op;
  j.key = o.key;
  j.package = o.package;
  j.index = o.index;
  j.text = o.key_text() + "=" + format_override_value(value);
  j.source = Source::override_arg(o.index, j.text);
  Node v = value;
  v.set_source_recursive(j.source);
  j.value = std::move(v);
  return j;
}

// [class] at pattern[p]: sets `end` past it and `matched`; false when there
// is no closing ']' (then '[' is an ordinary character, as in fnmatch).
bool match_class(std::string_view pattern, std::size_t p, char c, std::size_t& end, bool& matched) {
  std::size_t j = p + 1;
  bool negate = j < pattern.size() && pattern[j] == '!';
  if (negate) ++j;
  const std::size_t first = j;
  if (j < pattern.size() && pattern[j] == ']') ++j;  // a leading ']' is a member
  while (j < pattern.size() && pattern[j] != ']') ++j;
  if (j >= pattern.size()) return false;
  bool hit = false;
  for (std::size_t k = first; k < j;) {
    if (k + 2 < j && pattern[k + 1] == '-') {
      hit = hit || (pattern[k] <= c && c <= pattern[k + 2]);
      k += 3;
    } else {
      hit = hit || pattern[k] == c;
      ++k;
    }
  }
  matched = hit != negate;
  end = j + 1;
  return true;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name) {
  std::size_t p = 0, n = 0;
  std::size_t star = std::string_view::npos, star_n = 0;  // where to resume after the last '*'
  while (n < name.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star = ++p;
        star_n = n;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++n;
        continue;
      }
      std::size_t end = 0;
      bool matched = false;
      if (pc == '[' && match_class(pattern, p, name[n], end, matched)) {
        if (matched) {
          p = end;
          ++n;
          continue;
        }
      } else if (pc == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<Node> sweep_values(const Override& o, const GroupOptions& options) {
  if (!o.sweep) return o.value ? std::vector<Node>{*o.value} : std::vector<Node>{};
  switch (o.sweep->kind) {
    case SweepKind::kChoice:
      if (o.sweep->choices.size() > kMaxSweepValues) fail(o, too_many(o, std::to_string(o.sweep->choices.size())));
      return o.sweep->choices;
    case SweepKind::kRange: {
      const Sweep& s = *o.sweep;
      std::vector<Node> values = sweep_range::values(s.start, s.stop, s.step, kMaxSweepValues, o.source);
      if (values.size() > kMaxSweepValues)
        fail(o, too_many(o, "more than " + std::to_string(kMaxSweepValues)), "narrow the range or raise its step");
      if (values.empty())
        fail(o,
             "'" + s.text + "' is empty: it has no values from " + format_override_value(s.start) + " to " +
                 format_override_value(s.stop) + " in steps of " + format_override_value(s.step),
             "the stop is exclusive; for a descending range use a negative step, e.g. range(5,0,-1)");
      return values;
    }
    case SweepKind::kGlob: return glob_values(o, options);
  }
  return {};
}

std::vector<std::vector<Override>> expand_sweeps(const std::vector<Override>& overrides, const GroupOptions& options) {
  std::vector<std::vector<Node>> values(overrides.size());
  Diagnostics diagnostics;
  for (std::size_t i = 0; i < overrides.size(); ++i)
    if (overrides[i].is_sweep()) diagnostics.collect([&] { values[i] = sweep_values(overrides[i], options); });
  diagnostics.throw_if_any();

  std::size_t jobs = 1;
  std::string sizes;
  const Override* first_sweep = nullptr;
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    if (!overrides[i].is_sweep()) continue;
    if (!first_sweep) first_sweep = &overrides[i];
    sizes += (sizes.empty() ? "" : " x ") + std::to_string(values[i].size()) + " ('" + overrides[i].text + "')";
    // Saturate instead of overflowing; anything past the cap is an error anyway.
    jobs = values[i].size() > kMaxSweepJobs / jobs ? kMaxSweepJobs + 1 : jobs * values[i].size();
  }
  if (jobs > kMaxSweepJobs)
    throw ConfigError(
        Diagnostic{first_sweep->key, first_sweep->source,
                   "the multirun has more than " + std::to_string(kMaxSweepJobs) + " jobs: " + sizes,
                   "kiln runs at most " + std::to_string(kMaxSweepJobs) + " jobs per multirun; sweep fewer values"});

  std::vector<std::vector<Override>> out;
  out.reserve(jobs);
  std::vector<std::size_t> pick(overrides.size(), 0);
  for (std::size_t job = 0; job < jobs; ++job) {
    std::vector<Override> list;
    list.reserve(overrides.size());
    for (std::size_t i = 0; i < overrides.size(); ++i)
      list.push_back(overrides[i].is_sweep() ? job_override(overrides[i], values[i][pick[i]]) : overrides[i]);
    out.push_back(std::move(list));
    // Odometer: the last sweep turns fastest, the first slowest.
    for (std::size_t i = overrides.size(); i-- > 0;) {
      if (!overrides[i].is_sweep()) continue;
      if (++pick[i] < values[i].size()) break;
      pick[i] = 0;
    }
  }
  return out;
}

}  // namespace kiln::config
