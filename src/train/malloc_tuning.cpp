#include "kiln/train/malloc_tuning.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kiln::train {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  static const bool done = [] {
    // A user who tunes malloc through the environment keeps their settings.
    for (const char* name : {"GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"})
      if (std::getenv(name)) return false;
    // Both are needed: with only the mmap threshold raised, the freed
    // buffers go to the heap top and are trimmed away; with only the trim
    // threshold, they are still unmapped.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)done;
#endif
}

}  // namespace kiln::train
