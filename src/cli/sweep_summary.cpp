#include "sweep_summary.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "text_table.h"

namespace kiln::cli {
namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

std::string format_sweep_table(const std::vector<SweepRow>& rows) {
  std::vector<std::string> metric_names;
  for (const char* stage : {"test/", "val/"}) {
    std::set<std::string> names;
    for (const SweepRow& row : rows)
      for (const auto& [name, value] : row.metrics)
        if (name.starts_with(stage)) names.insert(name);
    metric_names.insert(metric_names.end(), names.begin(), names.end());
  }
  std::vector<std::string> header = {"#", "status"};
  header.insert(header.end(), metric_names.begin(), metric_names.end());
  header.push_back("seconds");
  header.push_back("overrides");

  TableRows cells = {header};
  for (const SweepRow& row : rows) {
    std::vector<std::string> line = {std::to_string(row.index), row.status};
    for (const std::string& name : metric_names) {
      auto it = row.metrics.find(name);
      line.push_back(it == row.metrics.end() ? "-" : fixed(it->second, 4));
    }
    line.push_back(fixed(row.seconds, 1));
    line.push_back(row.overrides.empty() ? "(none)" : row.overrides);
    cells.push_back(std::move(line));
  }
  return format_table(cells);
}

}  // namespace kiln::cli
