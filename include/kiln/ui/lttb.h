// Largest-triangle-three-buckets down-sampling (Steinarsson 2013): picks the
// points of a long series that keep its visual shape, so the dashboard draws
// a million-point metric as ~2,000 points without losing spikes.
//
// Contract: x is non-decreasing (steps, wall times); the first and the last
// point are always kept; the other max_points - 2 are one per equal-width
// bucket of the interior points (by index, as in the reference
// implementation), the one forming the largest triangle with the point kept
// before it and the mean of the next bucket. Non-finite values (a diverged
// loss) never win a bucket over finite ones.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace kiln::ui {

// The indices of the points to keep, ascending. max_points >= x.size() (or
// 0, meaning "no limit") keeps every point; 1 keeps the first, 2 the first
// and the last. x and y have the same size.
std::vector<std::size_t> lttb_indices(std::span<const double> x, std::span<const double> y, std::size_t max_points);

}  // namespace kiln::ui
