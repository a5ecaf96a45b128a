#include "kiln/ui/lttb.h"

#include <cassert>
#include <cmath>

namespace kiln::ui {
namespace {

// Bucket k of the interior points starts at 1 + floor(k (n-2) / (m-2)).
// Integer arithmetic, so the last bucket ends exactly at n - 1 (the
// reference's floating-point `every` can drop a point there).
std::size_t bucket_start(std::size_t k, std::size_t n, std::size_t m) { return 1 + k * (n - 2) / (m - 2); }

}  // namespace

std::vector<std::size_t> lttb_indices(std::span<const double> x, std::span<const double> y, std::size_t max_points) {
  assert(x.size() == y.size());
  const std::size_t n = x.size();
  std::vector<std::size_t> kept;
  if (max_points == 0 || max_points >= n) {
    kept.resize(n);
    for (std::size_t i = 0; i < n; ++i) kept[i] = i;
    return kept;
  }
  kept.push_back(0);
  if (max_points == 1) return kept;
  if (max_points == 2) {
    kept.push_back(n - 1);
    return kept;
  }
  kept.reserve(max_points);
  std::size_t a = 0;
  for (std::size_t i = 0; i + 2 < max_points; ++i) {
    // The mean of the next bucket (the last point for the last bucket):
    // the third corner of every candidate triangle.
    std::size_t next_begin = bucket_start(i + 1, n, max_points);
    std::size_t next_end = std::min(bucket_start(i + 2, n, max_points), n);
    if (next_begin >= n) next_begin = n - 1, next_end = n;
    double sum_x = 0, sum_y = 0;
    std::size_t finite = 0;
    for (std::size_t j = next_begin; j < next_end; ++j) {
      if (!std::isfinite(y[j])) continue;
      sum_x += x[j];
      sum_y += y[j];
      ++finite;
    }
    const double ax = x[a];
    double avg_x = finite ? sum_x / finite : x[next_begin];
    double avg_y = finite ? sum_y / finite : (std::isfinite(y[a]) ? y[a] : 0.0);
    const double ay = std::isfinite(y[a]) ? y[a] : avg_y;

    const std::size_t begin = bucket_start(i, n, max_points);
    const std::size_t end = bucket_start(i + 1, n, max_points);
    std::size_t best = begin;
    double best_area = -1;
    for (std::size_t j = begin; j < end; ++j) {
      // A non-finite point wins only a bucket of non-finite points, so a
      // single NaN does not hide the curve around it.
      double area = std::isfinite(y[j]) ? std::abs((ax - avg_x) * (y[j] - ay) - (ax - x[j]) * (avg_y - ay)) : -0.5;
      if (std::isnan(area)) area = -0.5;
      if (area > best_area) best_area = area, best = j;
    }
    kept.push_back(best);
    a = best;
  }
  kept.push_back(n - 1);
  return kept;
}

}  // namespace kiln::ui
