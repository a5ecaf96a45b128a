// The flat space of ZeRO's parameters and gradients (GradientSync's layout)
// is cut into world-size shards of shard_numel elements, rank r's first at
// r * shard_numel. What the reductions, the optimizer shard and the
// stage-3 gathers all ask of it: where a run of it meets a rank's shard.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace kiln::dist {

// The part of [start, start + numel) that falls in `rank`'s shard, as
// {offset from start, length}; length 0 when none does.
inline std::pair<std::int64_t, std::int64_t> shard_overlap(std::int64_t start, std::int64_t numel, int rank,
                                                           std::int64_t shard_numel) {
  const std::int64_t lo = std::max(start, rank * shard_numel);
  const std::int64_t hi = std::min(start + numel, (rank + 1) * shard_numel);
  return {lo - start, std::max<std::int64_t>(0, hi - lo)};
}

}  // namespace kiln::dist
