// Which files an artifact download may serve: only regular files inside the
// run's directory. A request for "../other-run/model.safetensors", an
// absolute path, or a symlink that leads outside the run directory is
// refused, whatever the file system looks like.
//
// Thread safety: pure functions over the file system.
#pragma once

#include <filesystem>
#include <string_view>
#include <variant>

namespace kiln::ui {

enum class ArtifactPathError {
  kOutsideRunDir,  // "..", absolute, or resolves (symlinks) outside: 403
  kNotFound,       // nothing there, or not a regular file: 404
};

// The canonical path of `relative` inside `run_dir` (both resolved with
// weakly_canonical, so symlinks are followed before the prefix check), or
// why it may not be served.
std::variant<std::filesystem::path, ArtifactPathError> resolve_artifact_path(const std::filesystem::path& run_dir,
                                                                             std::string_view relative);

}  // namespace kiln::ui
