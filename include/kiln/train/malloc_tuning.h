// Keeps the memory a training step frees for the next step, instead of
// handing it back to the kernel and faulting it in again.
//
// glibc's malloc serves large requests with mmap and unmaps them on free,
// and trims the heap's free top back to the kernel; a training step
// allocates and frees the same activation and gradient buffers every step,
// so by default each step page-faults them in again. Measured on a small GPT
// (kiln_gpt2_train_bench --model gpt_tiny --raw, 1 thread): 67 ms per step,
// 44 ms with these settings, where eager PyTorch takes 48 ms.
#pragma once

namespace kiln::train {

// Raises M_MMAP_THRESHOLD to 32 MiB (glibc's largest) and M_TRIM_THRESHOLD
// to 256 MiB, process-wide; once, idempotent, thread-safe. Does nothing when
// the environment already tunes malloc (MALLOC_*_ or GLIBC_TUNABLES set), or
// on a C library other than glibc. `kiln train` calls it before training.
void keep_freed_memory_for_reuse();

}  // namespace kiln::train
