// What `kiln generate` and `kiln checkpoint` take as RUN_OR_CKPT: a run
// directory, its checkpoints/ directory, or one checkpoint in it.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

namespace kiln::cli {

// The run directory (holding .kiln/resolved.yaml) and the checkpoint root or
// directory `where` names: <run>/checkpoints for a run. Throws kiln::Error
// starting with `command` when `where` is missing or none of the three.
std::pair<std::filesystem::path, std::filesystem::path> locate_run_checkpoint(const std::filesystem::path& where,
                                                                              const std::string& command);

}  // namespace kiln::cli
