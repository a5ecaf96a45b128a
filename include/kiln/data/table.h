// CSV and TSV tables of numbers with a label column: a header row naming the
// columns, then one example per row.
//
//   Table t = read_table("iris.csv", {.label_column = "species"});
//   // t.features: rows x t.feature_names.size() floats, row-major; t.labels: int64
//
// The delimiter is ',' for .csv and '\t' for .tsv (or TableOptions::delimiter).
// Fields may be quoted with '"' ("" inside quotes is a quote). Every feature
// must be a number, every label an integer; empty lines are skipped. Errors
// name the file, line and column (1-based) and the field. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::data {

struct TableOptions {
  std::string label_column = "label";
  char delimiter = '\0';  // '\0': by extension (.tsv: tab, else comma)
};

struct Table {
  std::vector<std::string> feature_names;  // header order, label left out
  std::vector<float> features;             // rows x feature_names.size()
  std::vector<std::int64_t> labels;        // one per row
  std::size_t rows() const { return labels.size(); }
};

// Throws kiln::IoError when the file cannot be read, DataFormatError for a
// missing label column, a row with another number of fields than the
// header, or a field that is not a number.
Table read_table(const std::filesystem::path& path, const TableOptions& options = {});

}  // namespace kiln::data
