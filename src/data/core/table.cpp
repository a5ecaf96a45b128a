#include "kiln/data/table.h"

#include <charconv>
#include <cstdlib>

#include "kiln/data/error.h"
#include "kiln/track/env.h"

namespace kiln::data {
namespace {

// The fields of one line; quotes per RFC 4180, without embedded newlines.
std::vector<std::string> split_fields(std::string_view line, char delimiter) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == delimiter) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

}  // namespace

Table read_table(const std::filesystem::path& path, const TableOptions& options) {
  const char delimiter = options.delimiter ? options.delimiter : (path.extension() == ".tsv" ? '\t' : ',');
  const std::string text = Env::Default().read_file(path);
  const std::string where = path.string() + ":";
  Table table;
  std::size_t label = SIZE_MAX, columns = 0, line_no = 0, at = 0;
  bool header = true;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::vector<std::string> fields = split_fields(line, delimiter);
    if (header) {
      header = false;
      columns = fields.size();
      for (std::size_t c = 0; c < fields.size(); ++c) {
        if (fields[c] == options.label_column)
          label = c;
        else
          table.feature_names.push_back(fields[c]);
      }
      if (label == SIZE_MAX)
        throw DataFormatError(where + std::to_string(line_no) + ": no label column '" + options.label_column +
                              "' in the header (set the label column's name)");
      continue;
    }
    if (fields.size() != columns)
      throw DataFormatError(where + std::to_string(line_no) + ": expected " + std::to_string(columns) +
                            " fields as in the header, found " + std::to_string(fields.size()));
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const std::string& f = fields[c];
      const std::string at_field = where + std::to_string(line_no) + ":" + std::to_string(c + 1) + ": ";
      if (c == label) {
        std::int64_t v = 0;
        const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        if (ec != std::errc() || p != f.data() + f.size() || f.empty())
          throw DataFormatError(at_field + "label '" + f + "' is not an integer");
        table.labels.push_back(v);
      } else {
        char* p = nullptr;
        const float v = std::strtof(f.c_str(), &p);
        if (f.empty() || *p != '\0')
          throw DataFormatError(at_field + "column '" + table.feature_names[c < label ? c : c - 1] + "': '" + f +
                                "' is not a number");
        table.features.push_back(v);
      }
    }
  }
  return table;
}

}  // namespace kiln::data
