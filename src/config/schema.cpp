// Help tables, schema bindings and the job schema registry.
#include "kiln/config/schema.h"

#include <algorithm>

namespace kiln::config {
namespace {

constexpr std::size_t kMaxCell = 40;

std::string clip(std::string cell) {
  if (cell.size() > kMaxCell) cell = cell.substr(0, kMaxCell - 3) + "...";
  return cell;
}

std::string description(const FieldHelp& row) {
  std::string out = row.doc;
  auto append = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += "; ";
    out += part;
  };
  append(row.constraints);
  if (row.required) append("required");
  return out;
}

std::string rtrim(std::string line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

std::string format_help(const std::vector<FieldHelp>& rows) {
  if (rows.empty()) return {};
  bool any_current =
      std::any_of(rows.begin(), rows.end(), [](const FieldHelp& r) { return r.current_value.has_value(); });
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header = {"KEY", "TYPE", "DEFAULT"};
  if (any_current) header.emplace_back("CURRENT");
  header.emplace_back("DESCRIPTION");
  table.push_back(header);
  for (const auto& row : rows) {
    std::vector<std::string> cells = {row.key, clip(row.type), clip(row.default_value)};
    if (any_current) cells.push_back(clip(row.current_value.value_or("")));
    cells.push_back(description(row));
    table.push_back(std::move(cells));
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& cells : table)
    for (std::size_t c = 0; c < cells.size(); ++c) widths[c] = std::max(widths[c], cells[c].size());
  std::string out;
  for (const auto& cells : table) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      line += cells[c];
      if (c + 1 < cells.size()) line += std::string(widths[c] - cells[c].size() + 2, ' ');
    }
    out += rtrim(std::move(line)) + "\n";
  }
  return out;
}

bool SchemaBinding::validate(const Node& root, Diagnostics& diags) const {
  KeyPath path = parse_key(key_prefix);
  Node empty;
  return schema.validate(schema_detail::subtree_or_empty(root, path, empty), diags, format_key(path));
}

void SchemaBinding::validate(const Node& root) const {
  Diagnostics diags;
  validate(root, diags);
  diags.throw_if_any();
}

std::vector<FieldHelp> SchemaBinding::describe(const Node* root) const {
  KeyPath path = parse_key(key_prefix);
  const Node* current = root ? select(*root, path) : nullptr;
  // A root without this subtree still shows that nothing is set there.
  Node empty = Node::map();
  if (root && !current) current = &empty;
  return schema.describe(current, path);
}

std::vector<std::pair<std::string, ListMerge>> SchemaBinding::list_merge_modes() const {
  return schema.list_merge_modes(parse_key(key_prefix));
}

bool SchemaRegistry::add(std::string key_prefix, AnySchema schema) {
  auto it = std::lower_bound(bindings_.begin(), bindings_.end(), key_prefix,
                             [](const SchemaBinding& b, const std::string& k) { return b.key_prefix < k; });
  if (it != bindings_.end() && it->key_prefix == key_prefix) {
    it->schema = std::move(schema);
    return false;
  }
  bindings_.insert(it, SchemaBinding{std::move(key_prefix), std::move(schema)});
  return true;
}

bool SchemaRegistry::remove(std::string_view key_prefix) {
  auto it = std::find_if(bindings_.begin(), bindings_.end(),
                         [&](const SchemaBinding& b) { return b.key_prefix == key_prefix; });
  if (it == bindings_.end()) return false;
  bindings_.erase(it);
  return true;
}

const SchemaBinding* SchemaRegistry::find(std::string_view key_prefix) const {
  for (const auto& b : bindings_)
    if (b.key_prefix == key_prefix) return &b;
  return nullptr;
}

bool SchemaRegistry::validate(const Node& root, Diagnostics& diags) const {
  bool ok = true;
  for (const auto& b : bindings_) ok = b.validate(root, diags) && ok;
  return ok;
}

void SchemaRegistry::validate(const Node& root) const {
  Diagnostics diags;
  validate(root, diags);
  diags.throw_if_any();
}

std::vector<FieldHelp> SchemaRegistry::describe(const Node* root) const {
  std::vector<FieldHelp> rows;
  for (const auto& b : bindings_) {
    auto part = b.describe(root);
    rows.insert(rows.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return rows;
}

std::vector<std::pair<std::string, ListMerge>> SchemaRegistry::list_merge_modes() const {
  std::vector<std::pair<std::string, ListMerge>> out;
  for (const auto& b : bindings_) {
    auto part = b.list_merge_modes();
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::string SchemaRegistry::help(const Node* root) const {
  std::string out;
  for (const auto& b : bindings_) {
    if (!out.empty()) out += "\n";
    std::string title = b.key_prefix.empty() ? "(root)" : b.key_prefix;
    if (b.schema.name() != b.key_prefix) title += " (" + b.schema.name() + ")";
    if (!b.schema.doc().empty()) title += ": " + b.schema.doc();
    out += title + "\n";
    std::string table = format_help(b.describe(root));
    out += table.empty() ? "(no fields)\n" : table;
  }
  return out;
}

SchemaRegistry& job_schema_registry() {
  static SchemaRegistry registry;
  return registry;
}

bool register_job_schema(std::string key_prefix, AnySchema schema) {
  return job_schema_registry().add(std::move(key_prefix), std::move(schema));
}

const std::vector<SchemaBinding>& job_schemas() { return job_schema_registry().bindings(); }

}  // namespace kiln::config
