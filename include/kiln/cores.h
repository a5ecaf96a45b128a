// The cores this process may run on: what kiln sizes its thread pools by
// (intra-op threads, data-loading workers). Torch-free.
#pragma once

namespace kiln {

// Cores in this process's CPU affinity mask (what taskset, cgroups' cpusets
// and Slurm leave it), at least 1.
int available_cores();

}  // namespace kiln
