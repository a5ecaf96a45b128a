// Text-level upsert (see catalog_writer.h for why not to re-emit the tree).
#include "kiln/data/catalog_writer.h"

#include <algorithm>

#include "kiln/config/node.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::data {
namespace {

std::string quoted(const std::string& s) { return config::yaml_scalar(config::Node::string(s)); }

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool blank_or_comment(const std::string& line) {
  std::size_t first = line.find_first_not_of(" \t\r");
  return first == std::string::npos || line[first] == '#';
}

// A top-level key (column 0, not a comment, not a list item).
bool top_level_key(const std::string& line) {
  return !line.empty() && line[0] != ' ' && line[0] != '#' && line[0] != '-';
}

bool same_entry(const DatasetEntry& a, const DatasetEntry& b) {
  if (a.name != b.name || a.version != b.version || a.format != b.format || a.description != b.description ||
      a.license != b.license || a.sources.size() != b.sources.size() || a.files.size() != b.files.size())
    return false;
  for (std::size_t i = 0; i < a.sources.size(); ++i)
    if (a.sources[i].url != b.sources[i].url || a.sources[i].endpoint != b.sources[i].endpoint ||
        a.sources[i].region != b.sources[i].region)
      return false;
  for (std::size_t i = 0; i < a.files.size(); ++i)
    if (a.files[i].path != b.files[i].path || a.files[i].size != b.files[i].size ||
        a.files[i].sha256 != b.files[i].sha256)
      return false;
  return true;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

std::string format_catalog_entry(const DatasetEntry& entry, int indent) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  std::string in = pad + "  ";
  std::string out = pad + "- name: " + quoted(entry.name) + "\n";
  out += in + "version: " + std::to_string(entry.version) + "\n";
  if (!entry.format.empty()) out += in + "format: " + quoted(entry.format) + "\n";
  if (!entry.description.empty()) out += in + "description: " + quoted(entry.description) + "\n";
  if (!entry.license.empty()) out += in + "license: " + quoted(entry.license) + "\n";
  out += in + "sources:\n";
  for (const auto& s : entry.sources) {
    if (s.endpoint.empty() && s.region.empty()) {
      out += in + "  - " + quoted(s.url) + "\n";
      continue;
    }
    out += in + "  - url: " + quoted(s.url) + "\n";
    if (!s.endpoint.empty()) out += in + "    endpoint: " + quoted(s.endpoint) + "\n";
    if (!s.region.empty()) out += in + "    region: " + quoted(s.region) + "\n";
  }
  out += in + "files:\n";
  for (const auto& f : entry.files) {
    out += in + "  - path: " + quoted(f.path) + "\n";
    out += in + "    size: " + std::to_string(f.size) + "\n";
    out += in + "    sha256: " + quoted(f.sha256) + "\n";
  }
  return out;
}

std::string upsert_catalog_entry(std::string_view text, const DatasetEntry& entry, const std::string& origin) {
  std::vector<std::string> lines = split_lines(text);
  // A new (empty, or comments only) file is an empty catalog.
  bool fresh = std::all_of(lines.begin(), lines.end(), blank_or_comment);
  Catalog before = fresh ? Catalog() : Catalog::parse(text, origin);
  const std::vector<DatasetEntry>& entries = before.entries();
  std::string result;
  if (entries.empty()) {
    // Nothing to keep but the comments above the first key.
    std::vector<std::string> header;
    for (const auto& l : lines) {
      if (!blank_or_comment(l)) break;
      header.push_back(l);
    }
    std::vector<std::string> rest;
    bool in_datasets = false;
    for (std::size_t i = header.size(); i < lines.size(); ++i) {
      if (top_level_key(lines[i])) in_datasets = lines[i].starts_with("datasets:");
      if (!in_datasets && !lines[i].starts_with("kiln_catalog:")) rest.push_back(lines[i]);
    }
    result = join_lines(header) + "kiln_catalog: " + std::to_string(kCatalogFormatVersion) + "\n" + join_lines(rest) +
             "datasets:\n" + format_catalog_entry(entry, 2);
  } else {
    // Entry i spans from its first line to the line before entry i+1 (or
    // the next top-level key), less trailing blank and comment lines, which
    // belong to what follows.
    auto first_line = [&](std::size_t i) { return static_cast<std::size_t>(entries[i].where.line - 1); };
    std::size_t after_last = lines.size();
    for (std::size_t l = first_line(entries.size() - 1) + 1; l < lines.size(); ++l)
      if (top_level_key(lines[l])) {
        after_last = l;
        break;
      }
    auto end_line = [&](std::size_t i) {
      std::size_t end = i + 1 < entries.size() ? first_line(i + 1) : after_last;
      while (end > first_line(i) + 1 && blank_or_comment(lines[end - 1])) --end;
      return end;
    };
    const std::string& first = lines[first_line(0)];
    std::size_t column = static_cast<std::size_t>(entries[0].where.column - 1);
    std::size_t dash = first.find_first_not_of(' ');
    // One "- " item per line is what can be edited line by line; a flow
    // list ("datasets: [{...}, {...}]") is not.
    if (dash == std::string::npos || first[dash] != '-' || dash + 2 > column)
      throw UsageError("cannot edit catalog '" + origin + "' in place: its datasets list at line " +
                       std::to_string(entries[0].where.line) +
                       " is not a block list (one '- ' item per dataset); rewrite it so, then run again");
    int indent = static_cast<int>(dash);
    std::string formatted = format_catalog_entry(entry, indent);
    std::size_t replace = entries.size();
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (entries[i].name == entry.name && entries[i].version == entry.version) replace = i;
    std::vector<std::string> out;
    if (replace < entries.size()) {
      out.assign(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(first_line(replace)));
      for (const auto& l : split_lines(formatted)) out.push_back(l);
      out.insert(out.end(), lines.begin() + static_cast<std::ptrdiff_t>(end_line(replace)), lines.end());
    } else {
      std::size_t at = end_line(entries.size() - 1);
      out.assign(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(at));
      for (const auto& l : split_lines(formatted)) out.push_back(l);
      out.insert(out.end(), lines.begin() + static_cast<std::ptrdiff_t>(at), lines.end());
    }
    result = join_lines(out);
  }
  // The edit must leave every other entry as it was and hold the new one.
  Catalog after = Catalog::parse(result, origin);
  std::size_t expected = before.entries().size() + (before.find(entry.name, entry.version) ? 0 : 1);
  bool ok = after.entries().size() == expected;
  for (const auto& old : before.entries()) {
    if (old.name == entry.name && old.version == entry.version) continue;
    const DatasetEntry* now = after.find(old.name, old.version);
    ok = ok && now && same_entry(old, *now);
  }
  const DatasetEntry* added = after.find(entry.name, entry.version);
  ok = ok && added && same_entry(entry, *added);
  if (!ok)
    throw Error("internal error: editing catalog '" + origin + "' for " + entry.ref() +
                " would change other entries; nothing was written");
  return result;
}

void write_catalog_entry(const std::filesystem::path& path, const DatasetEntry& entry, Env& env) {
  std::string text = env.exists(path) ? env.read_file(path, 64u << 20) : std::string();
  std::string updated = upsert_catalog_entry(text, entry, path.string());
  if (path.has_parent_path()) env.create_dirs(path.parent_path());
  env.write_file_atomic(path, updated);
}

}  // namespace kiln::data
