// Plain-text tables for the terminal (column-aligned, two spaces apart) and
// CSV for scripts: `kiln runs ls`, `kiln runs compare`, the multirun summary.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

using TableRows = std::vector<std::vector<std::string>>;

// The first row is the header. Rows may be shorter than the header.
std::string format_table(const TableRows& rows);

// RFC 4180: fields with a comma, quote or newline are quoted, quotes doubled.
std::string format_csv(const TableRows& rows);

// A number as tables show it: %.6g ("-" for none).
std::string format_number(double value);

}  // namespace kiln::cli
