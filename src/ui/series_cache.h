// The series the dashboard has served, kept in memory and shared by its
// workers, so that polling a million-point series reads only the points
// logged since the last poll: SQLite needs ~0.3 s to step through a million
// rows, LTTB over them in memory ~10 ms. Private to kiln_ui.
//
// An entry belongs to one writing process of one run (run id, start time,
// host, pid) and one metric. A process only appends to a series or rewrites
// its newest point (the same step logged again), so an entry is brought up
// to date by re-reading from its newest point on. A resumed run is a new
// process, whose points may replace any earlier step: its entries are new
// ones, read whole.
//
// Bounded: the least recently used entries go once the cached points pass
// max_points; a series larger than that on its own is never kept.
//
// Thread safety: series() may be called from any thread; the points it
// returns are immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kiln/track/run_store.h"

namespace kiln::ui {

class SeriesCache {
 public:
  using Points = std::vector<track::MetricPoint>;

  // max_points = 0: nothing is kept, every call reads the store.
  explicit SeriesCache(std::size_t max_points) : max_points_(max_points) {}

  // Every point of `key` of `run` (track::RunStore::metric_series), read
  // through `store`, the caller's own connection.
  std::shared_ptr<const Points> series(track::RunStore& store, const track::RunRecord& run, const std::string& key,
                                       bool system);

 private:
  struct Entry {
    std::shared_ptr<const Points> points;
    std::uint64_t last_used = 0;
  };
  void keep(const std::string& identity, std::shared_ptr<const Points> points);

  const std::size_t max_points_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::size_t cached_points_ = 0;
  std::uint64_t clock_ = 0;
};

}  // namespace kiln::ui
