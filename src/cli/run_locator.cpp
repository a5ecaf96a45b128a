#include "run_locator.h"

#include "kiln/error.h"
#include "kiln/track/env.h"

namespace kiln::cli {

std::pair<std::filesystem::path, std::filesystem::path> locate_run_checkpoint(const std::filesystem::path& where,
                                                                              const std::string& command) {
  Env& env = Env::Default();
  auto is_run = [&](const std::filesystem::path& dir) { return env.exists(dir / ".kiln" / "resolved.yaml"); };
  if (is_run(where)) return {where, where / "checkpoints"};
  if (where.filename() == "checkpoints" && is_run(where.parent_path())) return {where.parent_path(), where};
  const std::filesystem::path parent = where.parent_path();
  if (parent.filename() == "checkpoints" && is_run(parent.parent_path())) return {parent.parent_path(), where};
  if (!env.exists(where)) throw Error(command + ": '" + where.string() + "' does not exist");
  throw Error(command + ": '" + where.string() +
              "' is not a run directory (one holding .kiln/resolved.yaml), its checkpoints/ directory or a "
              "checkpoint in it");
}

}  // namespace kiln::cli
