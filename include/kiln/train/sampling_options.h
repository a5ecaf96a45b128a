// How `kiln generate` samples (kiln/train/generate.h). Torch-free, so the
// command line can fill it in and hand it across the runner ABI.
#pragma once

#include <cstdint>
#include <optional>

namespace kiln {

struct SamplingOptions {
  std::int64_t max_new_tokens = 256;
  double temperature = 1.0;  // 0: greedy (always the most likely token)
  std::int64_t top_k = 0;    // > 0: sample among the k most likely tokens only
  double top_p = 1.0;        // < 1: among the smallest set whose probability reaches top_p (nucleus)
  std::uint64_t seed = 1337;
  // Generation ends once this token (a tokenizer's end-of-sequence id) has
  // been emitted.
  std::optional<std::int64_t> stop_token;
};

}  // namespace kiln
