// Linked into users' own binaries (CMake target kiln_in_process_runner): the
// trainer lives in the binary, next to the models and callbacks the user
// registers, so `kiln::main` trains without loading libkiln_runner.so.
#include "kiln/runner_abi.h"

namespace {

// Runs before main: the binary's kiln::main finds the runner already set.
const bool kInstalled = [] {
  kiln::use_in_process_runner(*kiln_job_runner());
  return true;
}();

}  // namespace
