#include "kiln/config/yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kiln/config/error.h"
#include "utf8.h"

namespace kiln::config {
namespace {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

// Aliases are expanded by copying, so a small file could stand for a huge
// tree ("billion laughs"); past this many nodes loading stops with an error.
constexpr std::size_t kMaxNodes = 200'000;

struct Converter {
  std::shared_ptr<const std::string> origin;
  Diagnostics& diagnostics;
  std::vector<YAML::Node> open_containers = {};  // the path being converted, to catch self-containing aliases
  std::size_t nodes = 0;

  Source source_of(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return Source::file(origin, 0, 0);
    return Source::file(origin, mark.line + 1, mark.column + 1);
  }

  static bool list_merge_from_tag(const std::string& tag, ListMerge& mode) {
    if (tag == "!append") return mode = ListMerge::kAppend, true;
    if (tag == "!prepend") return mode = ListMerge::kPrepend, true;
    if (tag == "!merge_by_index") return mode = ListMerge::kByIndex, true;
    if (tag == "!replace") return mode = ListMerge::kReplace, true;
    return false;
  }

  Node scalar(const YAML::Node& node, const std::string& key) {
    Source source = source_of(node);
    const std::string& tag = node.Tag();
    const std::string text = repair_latin1_escapes(node.Scalar());
    if (tag == "!" || tag == kStrTag) return Node::string(text, std::move(source));  // quoted or !!str
    if (tag == "?" || tag.empty()) return type_plain_scalar(text, std::move(source));
    Node typed = type_plain_scalar(text, source);
    auto expect = [&](Kind kind, const char* name) {
      if (typed.kind() == kind) return typed;
      if (kind == Kind::kFloat && typed.kind() == Kind::kInt)
        return Node::floating(static_cast<double>(typed.as_int()), source);
      diagnostics.add(key, source, "tag " + tag + " on '" + text + "' which is not a " + name);
      return Node::string(text, source);
    };
    if (tag == "tag:yaml.org,2002:int") return expect(Kind::kInt, "int");
    if (tag == "tag:yaml.org,2002:float") return expect(Kind::kFloat, "float");
    if (tag == "tag:yaml.org,2002:bool") return expect(Kind::kBool, "bool");
    if (tag == "tag:yaml.org,2002:null") return expect(Kind::kNull, "null");
    diagnostics.add(key, source, "unknown YAML tag '" + tag + "' on a scalar",
                    "kiln knows !!str, !!int, !!float, !!bool, !!null, and !append, !prepend, "
                    "!merge_by_index, !replace on lists");
    return Node::string(text, source);
  }

  // YAML 1.1 merge keys (`<<: *base`), which PyYAML and so OmegaConf
  // support: the keys of the merged maps come first, keys written in the map
  // itself win, and of several merged maps the earlier wins.
  static bool is_merge_key(const YAML::Node& k) {
    return k.IsScalar() && k.Scalar() == "<<" && (k.Tag() == "?" || k.Tag() == "tag:yaml.org,2002:merge");
  }

  void merge_keys_into(Node& map, const YAML::Node& value, const std::string& key) {
    std::vector<YAML::Node> sources;
    if (value.IsMap()) {
      sources.push_back(value);
    } else if (value.IsSequence()) {
      for (const auto& item : value) sources.push_back(item);
    }
    if (sources.empty() || std::any_of(sources.begin(), sources.end(), [](const auto& s) { return !s.IsMap(); })) {
      diagnostics.add(key, source_of(value), "the value of a '<<' merge key must be a map or a list of maps");
      return;
    }
    for (auto it = sources.rbegin(); it != sources.rend(); ++it) {
      Node merged = convert(*it, key);
      for (std::size_t i = 0; i < merged.size(); ++i) map.set(merged.keys()[i], merged.at(i));
    }
  }

  Node convert(const YAML::Node& node, const std::string& key) {
    if (++nodes > kMaxNodes) {
      if (nodes == kMaxNodes + 1)
        diagnostics.add(key, source_of(node),
                        "the config expands to more than " + std::to_string(kMaxNodes) + " values",
                        "aliases (*name) are copied where they are used; a config this large is almost "
                        "certainly an alias bomb");
      return Node::null(source_of(node));
    }
    if (node.IsMap() || node.IsSequence()) {
      for (const auto& open : open_containers) {
        if (open.is(node)) {
          diagnostics.add(key, source_of(node), "an alias refers to a map or list that contains it",
                          "YAML anchors cannot be used inside the node they name");
          return Node::null(source_of(node));
        }
      }
      open_containers.push_back(node);
      Node out = convert_unchecked(node, key);
      open_containers.pop_back();
      return out;
    }
    return convert_unchecked(node, key);
  }

  Node convert_unchecked(const YAML::Node& node, const std::string& key) {
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: return Node::null(source_of(node));
      case YAML::NodeType::Scalar: return scalar(node, key);
      case YAML::NodeType::Sequence: {
        Node list = Node::list(source_of(node));
        ListMerge mode;
        if (list_merge_from_tag(node.Tag(), mode)) {
          list.set_list_merge(mode);
        } else if (node.Tag() != "?" && node.Tag() != "!" && !node.Tag().empty() &&
                   node.Tag() != "tag:yaml.org,2002:seq") {
          diagnostics.add(key, source_of(node), "unknown YAML tag '" + node.Tag() + "' on a list",
                          "list tags are !append, !prepend, !merge_by_index and !replace");
        }
        std::size_t index = 0;
        for (const auto& item : node) list.push_back(convert(item, key + "[" + std::to_string(index++) + "]"));
        return list;
      }
      case YAML::NodeType::Map: {
        Node map = Node::map(source_of(node));
        for (const auto& entry : node) {
          if (is_merge_key(entry.first)) merge_keys_into(map, entry.second, key);
        }
        std::vector<std::string> explicit_keys;
        for (const auto& entry : node) {
          const YAML::Node& k = entry.first;
          if (is_merge_key(k)) continue;
          if (!k.IsScalar()) {
            diagnostics.add(key, source_of(k),
                            "a map key must be a scalar, found a " + std::string(k.IsMap() ? "map" : "list"));
            continue;
          }
          const std::string name = repair_latin1_escapes(k.Scalar());
          std::string child_key = key.empty() ? name : key + "." + name;
          if (std::find(explicit_keys.begin(), explicit_keys.end(), name) != explicit_keys.end()) {
            diagnostics.add(child_key, source_of(k),
                            "duplicate key '" + name + "' (first defined at " + map.find(name)->source().str() + ")");
            continue;
          }
          explicit_keys.push_back(name);
          map.set(name, convert(entry.second, child_key));
        }
        return map;
      }
    }
    return Node::null();
  }
};

// "# @package _global_" among the leading comment lines.
std::string package_header(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    if (line[first] != '#') break;
    std::string_view comment = line.substr(first + 1);
    std::size_t at = comment.find("@package");
    if (at == std::string_view::npos || comment.substr(0, at).find_first_not_of(" \t") != std::string_view::npos)
      continue;
    std::string_view value = comment.substr(at + 8);
    std::size_t b = value.find_first_not_of(" \t");
    std::size_t e = value.find_last_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    return std::string(value.substr(b, e - b + 1));
  }
  return {};
}

}  // namespace

namespace {

// Config files are UTF-8 (a leading UTF-8 byte-order mark is allowed). Other
// bytes could not be written back by to_yaml, and yaml-cpp would silently
// guess another encoding from a UTF-16/32 mark, so they are refused up front.
void check_utf8(std::string_view text, const std::shared_ptr<const std::string>& origin) {
  std::size_t skipped = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  std::optional<std::size_t> bad = first_invalid_utf8(text.substr(skipped));
  if (!bad) return;
  std::string_view before = text.substr(skipped, *bad);
  int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  std::size_t line_start = before.rfind('\n');
  int column = static_cast<int>(line_start == std::string_view::npos ? *bad + 1 : *bad - line_start);
  auto byte = static_cast<unsigned char>(text[skipped + *bad]);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", byte);
  throw ConfigError(Diagnostic{"", Source::file(origin, line, column),
                               std::string(byte == 0 ? "NUL byte" : "invalid UTF-8 byte ") + (byte ? hex : "") +
                                   ": config files must be UTF-8 text",
                               "re-save the file as UTF-8"});
}

}  // namespace

LoadedYaml load_yaml(std::string_view text, const std::string& origin) {
  auto origin_ptr = std::make_shared<const std::string>(origin);
  check_utf8(text, origin_ptr);
  Diagnostics diagnostics;
  LoadedYaml loaded;
  loaded.package = package_header(text);
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    Source where =
        Source::file(origin_ptr, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1);
    throw ConfigError(Diagnostic{"", where, "invalid YAML: " + e.msg, ""});
  }
  Converter converter{origin_ptr, diagnostics};
  if (!doc || doc.IsNull()) {
    loaded.root = Node::map(Source::file(origin_ptr, 1, 1));
  } else if (!doc.IsMap()) {
    diagnostics.add(
        "", converter.source_of(doc),
        std::string("the top level of a config file must be a map, found a ") + (doc.IsSequence() ? "list" : "scalar"));
  } else {
    loaded.root = converter.convert(doc, "");
  }
  diagnostics.throw_if_any();
  return loaded;
}

LoadedYaml load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read config file '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return load_yaml(text.str(), path);
}

// ---------------------------------------------------------------- emitting

namespace {

// Length of a UTF-8 sequence at s[i] that YAML treats as a line break or an
// unprintable character (C1 controls, U+2028, U+2029, U+FEFF), or 0.
std::size_t special_unicode_at(const std::string& s, std::size_t i) {
  auto at = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0; };
  if (at(i) == 0xC2 && at(i + 1) >= 0x80 && at(i + 1) <= 0x9F) return 2;
  if (at(i) == 0xE2 && at(i + 1) == 0x80 && (at(i + 2) == 0xA8 || at(i + 2) == 0xA9)) return 3;
  if (at(i) == 0xEF && at(i + 1) == 0xBB && at(i + 2) == 0xBF) return 3;
  return 0;
}

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  // Would it read back as something other than this string?
  Node typed = type_plain_scalar(s);
  if (typed.kind() != Kind::kString) return true;
  // A leading byte-order mark (or NUL) would be read as an encoding marker.
  static constexpr std::string_view kEncodingMarks[] = {"\xEF\xBB\xBF", "\xFE\xFF", "\xFF\xFE",
                                                        std::string_view("\0", 1)};
  for (auto mark : kEncodingMarks)
    if (std::string_view(s).starts_with(mark)) return true;
  static constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string_view::npos) {
    // "-x" and "?x" and ":x" are plain-safe when followed by a non-space,
    // but keep it simple and quote every leading indicator except '$'.
    return true;
  }
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  if (s.back() == ':') return true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || special_unicode_at(s, i)) return true;
  }
  return false;
}

std::string double_quoted(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (std::size_t n = special_unicode_at(s, i)) {
      unsigned code = n == 2 ? ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu)
                             : ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                                   (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", code);
      out += buf;
      i += n - 1;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string key_text(const std::string& key) { return needs_quotes(key) ? double_quoted(key) : key; }

const char* merge_tag(const Node& list) {
  switch (list.list_merge()) {
    case ListMerge::kAppend: return "!append ";
    case ListMerge::kPrepend: return "!prepend ";
    case ListMerge::kByIndex: return "!merge_by_index ";
    case ListMerge::kReplace: return "!replace ";
    case ListMerge::kDefault: return "";
  }
  return "";
}

void emit(const Node& node, int indent, std::string& out);

// The text after "key:" or "-": " value\n" for scalars and empty containers,
// "\n" plus an indented block otherwise.
void emit_value(const Node& value, int indent, std::string& out) {
  if (value.is_container() && !value.empty()) {
    if (value.is_list() && value.list_merge() != ListMerge::kDefault) {
      out += ' ';
      std::string tag = merge_tag(value);
      tag.pop_back();
      out += tag;
    }
    out += '\n';
    emit(value, indent + 2, out);
  } else {
    out += ' ';
    if (value.is_list()) out += merge_tag(value);
    out += value.is_container() ? (value.is_map() ? "{}" : "[]") : yaml_scalar(value);
    out += '\n';
  }
}

void emit(const Node& node, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (node.is_map()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string key = key_text(node.keys()[i]);
      // YAML limits implicit keys to 1024 characters; longer ones need the
      // explicit "? key" form.
      if (key.size() > 1000) {
        out += pad + "? " + key + "\n" + pad + ':';
      } else {
        out += pad + key + ':';
      }
      emit_value(node.at(i), indent, out);
    }
  } else if (node.is_list()) {
    for (const auto& item : node.items()) {
      out += pad + '-';
      if (item.is_map() && !item.empty()) {
        // "- a: 1\n  b: 2": the first key shares the dash's line.
        std::string block;
        emit(item, indent + 2, block);
        out += ' ' + block.substr(static_cast<std::size_t>(indent) + 2);
      } else {
        emit_value(item, indent, out);
      }
    }
  }
}

}  // namespace

std::string yaml_scalar(const Node& scalar) {
  switch (scalar.kind()) {
    case Kind::kString: {
      const std::string& s = scalar.as_string();
      return needs_quotes(s) ? double_quoted(s) : s;
    }
    case Kind::kMissing: return "???";
    default: return scalar.scalar_text();
  }
}

std::string to_yaml(const Node& node) {
  if (node.is_container() && node.empty()) return node.is_map() ? "{}\n" : "[]\n";
  if (node.is_scalar()) return yaml_scalar(node) + "\n";
  std::string out;
  emit(node, 0, out);
  return out;
}

}  // namespace kiln::config
