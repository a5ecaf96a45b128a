// Catalog parsing: the YAML tree (kiln_config, with file:line:col on every
// value) checked field by field, every problem collected before throwing.
#include "kiln/data/catalog.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "kiln/config/error.h"
#include "kiln/config/node.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

using config::Diagnostics;
using config::Kind;
using config::Node;

const std::vector<std::string> kTopKeys = {"kiln_catalog", "datasets"};
const std::vector<std::string> kEntryKeys = {"name", "version", "format", "description", "license", "sources", "files"};
const std::vector<std::string> kSourceKeys = {"url", "endpoint", "region"};
const std::vector<std::string> kFileKeys = {"path", "size", "sha256"};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// Unknown keys of a map, each with a "did you mean".
void check_keys(const Node& map, const std::string& path, const std::vector<std::string>& allowed,
                Diagnostics& problems) {
  for (std::size_t i = 0; i < map.keys().size(); ++i) {
    const std::string& key = map.keys()[i];
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    problems.add((path.empty() ? "" : path + ".") + key, map.items()[i].source(),
                 "unknown key '" + key + "' (expected one of: " + join(allowed) + ")",
                 config::did_you_mean(key, allowed));
  }
}

// The child `key` of `map` when it has the wanted kind; otherwise a
// diagnostic (missing when `required`, wrong kind always) and nullptr.
const Node* field(const Node& map, const std::string& path, const std::string& key, Kind kind, bool required,
                  Diagnostics& problems, const char* expected) {
  const Node* value = map.find(key);
  std::string full = path + "." + key;
  if (!value) {
    if (required) problems.add(full, map.source(), "missing required field '" + key + "' (" + expected + ")");
    return nullptr;
  }
  if (value->kind() != kind) {
    std::string found = value->is_scalar()
                            ? std::string(config::kind_name(value->kind())) + " '" + value->scalar_text() + "'"
                            : config::kind_name(value->kind());
    std::string hint = kind == Kind::kString && value->is_scalar() ? "quote it: \"" + value->scalar_text() + "\"" : "";
    problems.add(full, value->source(), std::string("expected ") + expected + ", found " + found, hint);
    return nullptr;
  }
  return value;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

// A relative path that stays inside the dataset directory.
std::optional<std::string> bad_relative_path(const std::string& p) {
  if (p.empty()) return "an empty path";
  if (p.front() == '/') return "an absolute path";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string segment = p.substr(start, end - start);
    if (segment.empty()) return "an empty segment ('//' or a trailing '/')";
    if (segment == "." || segment == "..") return "a '" + segment + "' segment";
    if (segment.front() == '.') return "a hidden name ('" + segment + "'; names starting with '.' are kiln's own)";
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> bad_source_url(const std::string& url) {
  if (url.empty()) return "an empty URL";
  if (url.starts_with("file://")) {
    if (url.size() <= 7 || url[7] != '/') return "a file:// URL without an absolute path";
    return std::nullopt;
  }
  if (url.starts_with("http://") || url.starts_with("https://")) {
    std::size_t host = url.find("://") + 3;
    if (host >= url.size() || url[host] == '/') return "an http(s) URL without a host";
    return std::nullopt;
  }
  if (url.starts_with("s3://")) {
    if (url.size() <= 5 || url[5] == '/') return "an s3:// URL without a bucket";
    return std::nullopt;
  }
  if (url.find("://") != std::string::npos) return "an unsupported scheme";
  return std::nullopt;  // a plain path; relative ones are relative to the catalog file's directory
}

DatasetSource parse_source(const Node& node, const std::string& path, Diagnostics& problems) {
  DatasetSource source;
  source.where = node.source();
  const Node* url = nullptr;
  if (node.is_string()) {
    url = &node;
  } else if (node.is_map()) {
    check_keys(node, path, kSourceKeys, problems);
    url = field(node, path, "url", Kind::kString, true, problems, "a path or a file://, http(s):// or s3:// URL");
    if (const Node* e = field(node, path, "endpoint", Kind::kString, false, problems, "an http(s):// URL"))
      source.endpoint = e->as_string();
    if (const Node* r = field(node, path, "region", Kind::kString, false, problems, "a region name such as us-east-1"))
      source.region = r->as_string();
  } else {
    problems.add(path, node.source(),
                 std::string("expected a path, a URL or a map {url, endpoint, region}, found ") +
                     config::kind_name(node.kind()));
    return source;
  }
  if (url) {
    source.url = url->as_string();
    if (auto bad = bad_source_url(source.url))
      problems.add(
          path, url->source(),
          "expected a path or a file://, http://, https:// or s3:// URL, found " + *bad + " '" + source.url + "'");
  }
  bool is_s3 = source.url.starts_with("s3://");
  if (!is_s3 && (!source.endpoint.empty() || !source.region.empty()))
    problems.add(path, node.source(),
                 "'endpoint' and 'region' apply to s3:// sources only, found '" + source.url + "'");
  if (!source.endpoint.empty() && !source.endpoint.starts_with("http://") && !source.endpoint.starts_with("https://"))
    problems.add(path + ".endpoint", node.find("endpoint")->source(),
                 "expected an http:// or https:// URL, found '" + source.endpoint + "'");
  return source;
}

CatalogFile parse_file(const Node& node, const std::string& path, Diagnostics& problems) {
  CatalogFile file;
  if (!node.is_map()) {
    problems.add(path, node.source(),
                 std::string("expected a map {path, size, sha256}, found ") + config::kind_name(node.kind()));
    return file;
  }
  check_keys(node, path, kFileKeys, problems);
  if (const Node* p = field(node, path, "path", Kind::kString, true, problems, "a relative path")) {
    file.path = p->as_string();
    if (auto bad = bad_relative_path(file.path))
      problems.add(path + ".path", p->source(),
                   "expected a relative path inside the dataset directory, found " + *bad + " in '" + file.path + "'");
  }
  if (const Node* s = field(node, path, "size", Kind::kInt, true, problems, "the size in bytes, an integer >= 0")) {
    if (s->as_int() < 0)
      problems.add(path + ".size", s->source(), "expected an integer >= 0, found " + std::to_string(s->as_int()));
    else
      file.size = static_cast<std::uint64_t>(s->as_int());
  }
  if (const Node* h = field(node, path, "sha256", Kind::kString, true, problems, "64 lowercase hex digits")) {
    file.sha256 = h->as_string();
    if (!is_hex64(file.sha256))
      problems.add(path + ".sha256", h->source(),
                   "expected 64 lowercase hex digits (sha256sum's output), found '" + file.sha256 + "' (" +
                       std::to_string(file.sha256.size()) + " characters)");
  }
  return file;
}

DatasetEntry parse_entry(const Node& node, const std::string& path, const std::string& origin, Diagnostics& problems) {
  DatasetEntry entry;
  entry.catalog = origin;
  entry.where = node.source();
  if (!node.is_map()) {
    problems.add(path, node.source(),
                 std::string("expected a dataset (a map with name, version, sources, files), found ") +
                     config::kind_name(node.kind()));
    return entry;
  }
  check_keys(node, path, kEntryKeys, problems);
  if (const Node* n = field(node, path, "name", Kind::kString, true, problems, "a name such as fashion_mnist")) {
    entry.name = n->as_string();
    if (!is_valid_dataset_name(entry.name))
      problems.add(path + ".name", n->source(),
                   "expected a name of lowercase letters, digits, '_', '-' and '.', starting with a letter or digit, "
                   "found '" +
                       entry.name + "'");
  }
  if (const Node* v = field(node, path, "version", Kind::kInt, true, problems, "an integer >= 1")) {
    entry.version = v->as_int();
    if (entry.version < 1)
      problems.add(path + ".version", v->source(), "expected an integer >= 1, found " + std::to_string(entry.version));
  }
  for (auto [key, out] : {std::pair{"format", &entry.format}, std::pair{"description", &entry.description},
                          std::pair{"license", &entry.license}}) {
    if (const Node* s = field(node, path, key, Kind::kString, false, problems, "a string")) *out = s->as_string();
  }
  if (const Node* sources = field(node, path, "sources", Kind::kList, true, problems, "a list of paths or URLs")) {
    if (sources->empty())
      problems.add(path + ".sources", sources->source(), "expected at least one source, found none");
    for (std::size_t i = 0; i < sources->size(); ++i)
      entry.sources.push_back(parse_source(sources->at(i), path + ".sources[" + std::to_string(i) + "]", problems));
  }
  if (const Node* files = field(node, path, "files", Kind::kList, true, problems, "a list of {path, size, sha256}")) {
    if (files->empty()) problems.add(path + ".files", files->source(), "expected at least one file, found none");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < files->size(); ++i) {
      std::string file_path = path + ".files[" + std::to_string(i) + "]";
      CatalogFile file = parse_file(files->at(i), file_path, problems);
      if (!file.path.empty() && !seen.insert(file.path).second)
        problems.add(file_path + ".path", files->at(i).source(), "file '" + file.path + "' is listed twice");
      entry.files.push_back(std::move(file));
    }
  }
  return entry;
}

}  // namespace

std::string DatasetEntry::ref() const { return name + "@" + std::to_string(version); }

std::uint64_t DatasetEntry::total_size() const {
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

std::string DatasetRef::str() const { return version ? name + "@" + std::to_string(*version) : name; }

bool is_valid_dataset_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'; };
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), ok);
}

DatasetRef parse_dataset_ref(std::string_view text) {
  const std::string expected = " (expected NAME or NAME@VERSION, e.g. fashion_mnist@1)";
  DatasetRef ref;
  std::size_t at = text.find('@');
  ref.name = std::string(text.substr(0, at));
  if (!is_valid_dataset_name(ref.name))
    throw UsageError("'" + std::string(text) + "' is not a dataset reference: bad name '" + ref.name + "'" + expected);
  if (at == std::string_view::npos) return ref;
  std::string_view digits = text.substr(at + 1);
  std::int64_t version = 0;
  bool ok = !digits.empty() && digits.size() <= 12 && digits.front() != '0';
  for (char c : digits) {
    if (c < '0' || c > '9') ok = false;
    version = version * 10 + (c - '0');
  }
  if (!ok)
    throw UsageError("'" + std::string(text) + "' is not a dataset reference: the version must be an integer >= 1" +
                     expected);
  ref.version = version;
  return ref;
}

Catalog Catalog::parse(std::string_view text, const std::string& origin) {
  config::Node root = config::load_yaml(text, origin).root;
  Diagnostics problems;
  Catalog catalog;
  check_keys(root, "", kTopKeys, problems);
  const Node* format = root.find("kiln_catalog");
  if (!format) {
    problems.add("kiln_catalog", root.source(),
                 "missing 'kiln_catalog: " + std::to_string(kCatalogFormatVersion) + "' (the catalog format version)");
  } else if (format->kind() != Kind::kInt || format->as_int() < 1) {
    problems.add("kiln_catalog", format->source(),
                 "expected the format version, an integer >= 1, found '" + format->scalar_text() + "'");
  } else if (format->as_int() > kCatalogFormatVersion) {
    problems.add("kiln_catalog", format->source(),
                 "catalog format " + std::to_string(format->as_int()) + " is newer than this kiln reads (" +
                     std::to_string(kCatalogFormatVersion) + ")",
                 "upgrade kiln");
  }
  const Node* datasets = root.find("datasets");
  if (datasets && !datasets->is_list()) {
    problems.add("datasets", datasets->source(),
                 std::string("expected a list of datasets, found ") + config::kind_name(datasets->kind()));
  } else if (datasets) {
    std::set<std::pair<std::string, std::int64_t>> seen;
    for (std::size_t i = 0; i < datasets->size(); ++i) {
      std::string path = "datasets[" + std::to_string(i) + "]";
      DatasetEntry entry = parse_entry(datasets->at(i), path, origin, problems);
      if (!entry.name.empty() && entry.version >= 1 && !seen.insert({entry.name, entry.version}).second)
        problems.add(path, entry.where, "dataset " + entry.ref() + " is defined twice in this catalog");
      catalog.entries_.push_back(std::move(entry));
    }
  }
  problems.throw_if_any();
  return catalog;
}

bool Catalog::add(DatasetEntry entry) {
  if (find(entry.name, entry.version)) return false;
  entries_.push_back(std::move(entry));
  return true;
}

void Catalog::add_all(const Catalog& other) {
  for (const auto& entry : other.entries_) add(entry);
}

const DatasetEntry* Catalog::find(std::string_view name, std::int64_t version) const {
  for (const auto& e : entries_)
    if (e.name == name && e.version == version) return &e;
  return nullptr;
}

const DatasetEntry* Catalog::latest(std::string_view name) const {
  const DatasetEntry* best = nullptr;
  for (const auto& e : entries_)
    if (e.name == name && (!best || e.version > best->version)) best = &e;
  return best;
}

std::vector<std::string> Catalog::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<std::string> Catalog::lookup_error(const DatasetRef& ref) const {
  const DatasetEntry* any = latest(ref.name);
  if (!any) {
    std::vector<std::string> known = names();
    std::string message = "unknown dataset '" + ref.name + "' (the catalogs define " +
                          (known.empty() ? std::string("no datasets") : join(known)) + ")";
    std::string hint = config::did_you_mean(ref.name, known);
    if (hint.empty()) hint = "`kiln data ls` lists the datasets; `kiln data add` adds one";
    return message + "\n  hint: " + hint;
  }
  if (!ref.version || find(ref.name, *ref.version)) return std::nullopt;
  std::vector<std::string> versions;
  for (const auto& e : entries_)
    if (e.name == ref.name) versions.push_back(std::to_string(e.version));
  return "dataset '" + ref.name + "' has no version " + std::to_string(*ref.version) + " (versions: " + join(versions) +
         ")";
}

const DatasetEntry& Catalog::resolve(const DatasetRef& ref) const {
  if (auto error = lookup_error(ref)) throw UsageError(*error);
  return ref.version ? *find(ref.name, *ref.version) : *latest(ref.name);
}

}  // namespace kiln::data
