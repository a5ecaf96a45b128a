// The override as a whole: prefix, key, package and value, plus the
// --multirun check. The value grammar lives in override_value.cpp.
#include <cstdio>
#include <cstring>

#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "override_grammar.h"
#include "utf8.h"

namespace kiln::config {
namespace {

namespace grammar = override_grammar;

constexpr const char* kKeyShape =
    "keys are dotted names of letters, digits, '_', '-' and '$' (optimizer.lr, trainer.gpus.0), or config group "
    "paths (model/encoder), optionally followed by @package";

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Hydra's KEY_SPECIAL characters: a segment starts with a letter, '_' or '$'.
bool is_key_start(char c) { return is_alpha(c) || c == '_' || c == '$'; }
bool is_key_char(char c) { return is_key_start(c) || is_digit(c) || c == '-'; }

struct KeyError {
  std::size_t pos;
  std::string message;
  std::string hint;
};

std::string shown_char(char c) {
  if (grammar::is_control(c)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "control character 0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
    return buf;
  }
  return std::string("'") + c + "'";
}

// Checks one dotted name (a key or a package) at text[begin, end): segments
// are identifiers or list indices. `what` names it in messages.
void check_dotted(std::string_view text, std::size_t begin, std::size_t end, const char* what) {
  std::size_t seg = begin;
  for (std::size_t i = begin; i <= end; ++i) {
    if (i < end && text[i] != '.') continue;
    if (i == seg) {
      throw KeyError{
          i, std::string("empty segment in ") + what + " '" + std::string(text.substr(begin, end - begin)) + "'",
          kKeyShape};
    }
    bool index = is_digit(text[seg]);
    for (std::size_t j = seg; j < i; ++j) {
      char c = text[j];
      bool ok = index ? is_digit(c) : (j == seg ? is_key_start(c) : is_key_char(c));
      if (ok) continue;
      std::string hint = kKeyShape;
      if (c == '[' || c == ']') hint = "index lists with a dot: 'trainer.gpus.0', not 'trainer.gpus[0]'";
      if (index && is_key_char(c)) {
        throw KeyError{j,
                       std::string("invalid ") + what + " segment '" + std::string(text.substr(seg, i - seg)) +
                           "': a segment starting with a digit must be a list index (digits only)",
                       kKeyShape};
      }
      throw KeyError{j,
                     std::string("unexpected ") + shown_char(c) + " in " + what + " '" +
                         std::string(text.substr(begin, end - begin)) + "'",
                     hint};
    }
    seg = i + 1;
  }
}

// A config-group path: identifiers separated by '/'.
void check_group_path(std::string_view text, std::size_t begin, std::size_t end) {
  std::size_t seg = begin;
  for (std::size_t i = begin; i <= end; ++i) {
    if (i < end && text[i] != '/') continue;
    if (i == seg)
      throw KeyError{i, "empty name in config group path '" + std::string(text.substr(begin, end - begin)) + "'",
                     "group paths look like model/encoder"};
    for (std::size_t j = seg; j < i; ++j) {
      char c = text[j];
      bool ok = j == seg ? (is_alpha(c) || c == '_') : (is_alpha(c) || is_digit(c) || c == '_' || c == '-');
      if (!ok)
        throw KeyError{j,
                       "unexpected " + shown_char(c) + " in config group path '" +
                           std::string(text.substr(begin, end - begin)) + "'",
                       "group names are letters, digits, '_' and '-', separated by '/' (model/encoder)"};
    }
    seg = i + 1;
  }
}

Diagnostic syntax_diagnostic(std::string_view text, std::string key, const Source& source, std::size_t pos,
                             const std::string& message, std::string hint) {
  return Diagnostic{std::move(key), source,
                    "syntax error at column " + std::to_string(grammar::column_of(text, pos)) + ": " + message,
                    std::move(hint)};
}

}  // namespace

const char* override_op_name(OverrideOp op) {
  switch (op) {
    case OverrideOp::kSet: return "set";
    case OverrideOp::kAdd: return "add";
    case OverrideOp::kForceAdd: return "force-add";
    case OverrideOp::kDelete: return "delete";
  }
  return "?";
}

std::string Override::key_text() const {
  std::string out;
  switch (op) {
    case OverrideOp::kSet: break;
    case OverrideOp::kAdd: out = "+"; break;
    case OverrideOp::kForceAdd: out = "++"; break;
    case OverrideOp::kDelete: out = "~"; break;
  }
  out += key;
  if (!package.empty()) out += "@" + package;
  return out;
}

Override parse_override(std::string_view text, int index) {
  Override o;
  o.text = std::string(text);
  o.index = index;
  o.source = Source::override_arg(index, o.text);
  if (std::optional<std::size_t> bad = first_invalid_utf8(text)) {
    throw ConfigError(Diagnostic{"", o.source, "byte " + std::to_string(*bad + 1) + " is not valid UTF-8 (or is NUL)",
                                 "overrides must be UTF-8 text, like config files"});
  }

  std::size_t i = 0;
  if (text.substr(0, 2) == "++") {
    o.op = OverrideOp::kForceAdd;
    i = 2;
  } else if (!text.empty() && text[0] == '+') {
    o.op = OverrideOp::kAdd;
    i = 1;
  } else if (!text.empty() && text[0] == '~') {
    o.op = OverrideOp::kDelete;
    i = 1;
  }
  if (i < text.size() && (text[i] == '+' || text[i] == '~'))
    throw ConfigError(syntax_diagnostic(
        text, "", o.source, i,
        std::string("unexpected '") + text[i] + "' after the prefix '" + std::string(text.substr(0, i)) + "'",
        "an override starts with at most one of '+' (add), '++' (add or set) and "
        "'~' (delete)"));

  std::size_t eq = text.find('=', i);
  std::size_t key_end = eq == std::string_view::npos ? text.size() : eq;
  std::size_t at = text.find('@', i);
  if (at != std::string_view::npos && at > key_end) at = std::string_view::npos;
  std::size_t name_end = at == std::string_view::npos ? key_end : at;
  try {
    if (name_end == i) {
      if (text.empty()) throw KeyError{0, "the override is empty", "write key=value"};
      throw KeyError{i, "expected a key, found " + (i < text.size() ? shown_char(text[i]) : "the end of the override"),
                     "write key=value, +key=value, ++key=value or ~key"};
    }
    bool group_path = text.substr(i, name_end - i).find('/') != std::string_view::npos;
    if (group_path) {
      check_group_path(text, i, name_end);
    } else {
      check_dotted(text, i, name_end, "key");
    }
    if (at != std::string_view::npos) {
      if (at + 1 == key_end)
        throw KeyError{at + 1, "expected a package name after '@'",
                       "write group@package=option; the root package is @_global_"};
      if (text.substr(at + 1, key_end - at - 1).find('@') != std::string_view::npos)
        throw KeyError{text.find('@', at + 1), "a key can have only one '@package'", kKeyShape};
      check_dotted(text, at + 1, key_end, "package");
      o.package = std::string(text.substr(at + 1, key_end - at - 1));
    }
  } catch (const KeyError& e) {
    throw ConfigError(syntax_diagnostic(text, "", o.source, e.pos, e.message, e.hint));
  }
  o.key = std::string(text.substr(i, name_end - i));

  if (eq == std::string_view::npos) {
    if (o.op == OverrideOp::kDelete) return o;
    std::string key = o.key_text();
    std::string hint = o.op == OverrideOp::kSet ? "write '" + key + "=VALUE' to set it, '+" + key +
                                                      "=VALUE' to add it, or '~" + key + "' to delete it"
                                                : "write '" + key + "=VALUE'";
    throw ConfigError(syntax_diagnostic(text, o.key, o.source, text.size(),
                                        "expected '=' after the key '" + key + "', found the end of the override",
                                        hint));
  }
  try {
    grammar::ParsedValue parsed = grammar::parse_value(text, eq + 1, o.source, o.op != OverrideOp::kDelete);
    o.value = std::move(parsed.element);
    o.sweep = std::move(parsed.sweep);
  } catch (const grammar::SyntaxError& e) {
    std::string hint = e.hint;
    if (o.op == OverrideOp::kDelete && e.message.find("sweep") != std::string::npos)
      hint = "~key=value deletes only when the key holds that one value; it cannot take a sweep";
    throw ConfigError(syntax_diagnostic(text, o.key, o.source, e.pos, e.message, hint));
  }
  return o;
}

std::vector<Override> parse_overrides(const std::vector<std::string>& args) {
  std::vector<Override> out;
  Diagnostics diagnostics;
  for (std::size_t k = 0; k < args.size(); ++k)
    diagnostics.collect([&] { out.push_back(parse_override(args[k], static_cast<int>(k) + 1)); });
  diagnostics.throw_if_any();
  return out;
}

Node parse_override_value(std::string_view text, const Source& source) {
  try {
    return *grammar::parse_value(text, 0, source, /*allow_sweep=*/false, /*keep_outer_blanks=*/true).element;
  } catch (const grammar::SyntaxError& e) {
    throw ConfigError(Diagnostic{"", source,
                                 "cannot parse '" + std::string(text) + "' as a value: syntax error at column " +
                                     std::to_string(grammar::column_of(text, e.pos)) + ": " + e.message,
                                 e.hint});
  }
}

void reject_sweeps(const std::vector<Override>& overrides) {
  Diagnostics diagnostics;
  for (const auto& o : overrides) {
    if (!o.is_sweep()) continue;
    if (o.sweep->simple_form) {
      const std::string key = o.key_text();
      const std::string& value = o.sweep->text;
      // Hydra's three suggestions, spelled out for this override; the quotes
      // are backslash-escaped so they survive the shell, as Hydra shows them.
      diagnostics.add(o.key, o.source, "Ambiguous value for argument '" + o.text + "'",
                      "1. To use it as a list, use " + key + "=[" + value + "]\n" +
                          "  2. To use it as string, quote the value: " + key + "=\\'" + value + "\\'\n" +
                          "  3. To sweep over it, add --multirun (-m) to your command line");
    } else {
      diagnostics.add(o.key, o.source, "Sweep parameter '" + o.text + "' requires --multirun",
                      "add --multirun (-m) to your command line to run one job per value");
    }
  }
  diagnostics.throw_if_any();
}

}  // namespace kiln::config
