// The version of kiln this binary was built as.
#pragma once

namespace kiln {

// SemVer, e.g. "0.1.0" (from CMakeLists.txt's project version).
const char* version();
// Short git commit the binary was built from, "-dirty" when the work tree had
// uncommitted changes, or "unknown" outside a git checkout.
const char* git_commit();

}  // namespace kiln
