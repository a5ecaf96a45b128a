// Finds the trainer (libkiln_runner.so) for `kiln train`; see runner_abi.h.
#pragma once

#include "kiln/runner_abi.h"

namespace kiln::cli {

// The runner next to the kiln executable (or $KILN_RUNNER_LIBRARY), loaded
// once. Throws kiln::Error naming the path and dlerror() when it is missing
// or from another build.
const JobRunner& job_runner();

}  // namespace kiln::cli
