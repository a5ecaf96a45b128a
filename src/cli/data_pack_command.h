// `kiln data pack`: writes a data source as WebDataset-compatible shards
// (docs/shards.md). `kiln data` (data_command.cpp) dispatches here with the
// arguments after "pack".
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

// Returns the exit code; bad usage throws kiln::UsageError, unreadable or
// corrupt input kiln::IoError (both caught by kiln::main).
int data_pack_command(const std::vector<std::string>& args);

}  // namespace kiln::cli
