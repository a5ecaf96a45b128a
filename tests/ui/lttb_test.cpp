#include "kiln/ui/lttb.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

namespace kiln::ui {
namespace {

std::vector<double> iota(std::size_t n) {
  std::vector<double> x(n);
  std::iota(x.begin(), x.end(), 0.0);
  return x;
}

// Expected indices come from the reference implementation
// (sveinn-steinarsson/flot-downsample, ported to Python) on the same input.
TEST(Lttb, MatchesTheReferenceImplementation) {
  std::vector<double> y = {0, 1, 0, 5, 0, -3, 2, 2, 8, 1, 0, 4, 4, -1, 3, 0, 9, 1, 2, 0};
  std::vector<double> x = iota(y.size());
  EXPECT_EQ(lttb_indices(x, y, 5), (std::vector<std::size_t>{0, 5, 8, 16, 19}));
  EXPECT_EQ(lttb_indices(x, y, 7), (std::vector<std::size_t>{0, 3, 5, 8, 13, 16, 19}));
  EXPECT_EQ(lttb_indices(x, y, 10), (std::vector<std::size_t>{0, 2, 3, 5, 8, 10, 12, 15, 16, 19}));
}

TEST(Lttb, KeepsEveryPointWhenThereAreFewEnough) {
  std::vector<double> x = iota(10), y(10, 1.0);
  std::vector<std::size_t> all(10);
  std::iota(all.begin(), all.end(), std::size_t{0});
  EXPECT_EQ(lttb_indices(x, y, 10), all);
  EXPECT_EQ(lttb_indices(x, y, 11), all);
  EXPECT_EQ(lttb_indices(x, y, 0), all);
  EXPECT_TRUE(lttb_indices({}, {}, 5).empty());
}

TEST(Lttb, TinyBudgetsKeepTheEnds) {
  std::vector<double> x = iota(10), y = iota(10);
  EXPECT_EQ(lttb_indices(x, y, 1), (std::vector<std::size_t>{0}));
  EXPECT_EQ(lttb_indices(x, y, 2), (std::vector<std::size_t>{0, 9}));
  EXPECT_EQ(lttb_indices(x, y, 3).size(), 3u);
}

TEST(Lttb, KeepsASpike) {
  std::vector<double> x = iota(10000), y(10000, 0.0);
  y[4321] = 100;
  auto kept = lttb_indices(x, y, 50);
  EXPECT_NE(std::find(kept.begin(), kept.end(), 4321u), kept.end());
}

TEST(Lttb, NonFiniteValuesDoNotWinOverFiniteOnes) {
  std::vector<double> x = iota(20), y(20, 0.0);
  y[5] = std::numeric_limits<double>::quiet_NaN();
  y[6] = std::numeric_limits<double>::infinity();
  y[7] = 3;
  auto kept = lttb_indices(x, y, 5);  // buckets of 6: [1,7), [7,13), [13,19)
  for (std::size_t i : kept) EXPECT_TRUE(std::isfinite(y[i])) << i;
}

TEST(Lttb, AMillionPointsToTwoThousandQuickly) {
  const std::size_t n = 1'000'000;
  std::vector<double> x = iota(n), y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = std::sin(i * 1e-4) + 1e-3 * static_cast<double>(i % 7);
  auto start = std::chrono::steady_clock::now();
  auto kept = lttb_indices(x, y, 2000);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(kept.size(), 2000u);
  EXPECT_EQ(kept.front(), 0u);
  EXPECT_EQ(kept.back(), n - 1);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_EQ(std::adjacent_find(kept.begin(), kept.end()), kept.end());  // no index twice
  // One pass over the data: far below the 100 ms the API has for the whole request.
  EXPECT_LT(ms, 100.0);
}

}  // namespace
}  // namespace kiln::ui
