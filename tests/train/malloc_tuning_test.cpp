// keep_freed_memory_for_reuse: after it, a large buffer comes from the heap
// (no mmap) and freeing it keeps the pages for the next one.
#include "kiln/train/malloc_tuning.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace {

TEST(MallocTuning, LargeBuffersStayInTheHeapForTheNextStep) {
  if (std::getenv("GLIBC_TUNABLES") || std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_"))
    GTEST_SKIP() << "the environment tunes malloc itself; kiln leaves it alone";
  kiln::train::keep_freed_memory_for_reuse();
  kiln::train::keep_freed_memory_for_reuse();  // idempotent
  const std::size_t mapped_before = mallinfo2().hblkhd;
  // 16 MiB: above glibc's default mmap threshold (128 KiB, at most 32 MiB
  // once raised dynamically), below kiln's 32 MiB.
  constexpr std::size_t kBytes = 16u << 20;
  void* buffer = std::malloc(kBytes);
  ASSERT_NE(buffer, nullptr);
  std::memset(buffer, 1, kBytes);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "the buffer was mmapped";
  std::free(buffer);
  // Freed, its pages stay with the process (not trimmed below 256 MiB).
  EXPECT_GE(mallinfo2().fordblks, kBytes);
}

}  // namespace
