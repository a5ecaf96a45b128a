#include "kiln/ui/artifact_path.h"

#include <algorithm>
#include <system_error>

namespace kiln::ui {

namespace fs = std::filesystem;

std::variant<fs::path, ArtifactPathError> resolve_artifact_path(const fs::path& run_dir, std::string_view relative) {
  fs::path rel(relative);
  if (relative.empty() || rel.is_absolute() || relative.find('\0') != std::string_view::npos)
    return ArtifactPathError::kOutsideRunDir;
  // Refused before touching the disk, even where ".." would stay inside.
  for (const fs::path& part : rel)
    if (part == "..") return ArtifactPathError::kOutsideRunDir;

  std::error_code ec;
  fs::path root = fs::weakly_canonical(run_dir, ec);
  if (ec) return ArtifactPathError::kNotFound;
  // A missing run directory given as "dir/" keeps an empty last element.
  if (root.filename().empty()) root = root.parent_path();
  fs::path target = fs::weakly_canonical(root / rel, ec);
  if (ec) return ArtifactPathError::kNotFound;
  // Component-wise prefix: "/runs/a" is not inside "/runs/ab", nor the reverse.
  auto [root_end, target_it] = std::mismatch(root.begin(), root.end(), target.begin(), target.end());
  if (root_end != root.end() || target_it == target.end()) return ArtifactPathError::kOutsideRunDir;
  if (!fs::is_regular_file(target, ec)) return ArtifactPathError::kNotFound;
  return target;
}

}  // namespace kiln::ui
