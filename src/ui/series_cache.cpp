#include "series_cache.h"

#include <cmath>
#include <cstdio>

namespace kiln::ui {
namespace {

std::string identity_of(const track::RunRecord& run, const std::string& key, bool system) {
  char writer[96];
  std::snprintf(writer, sizeof writer, "%.17g/%lld", run.start_time, static_cast<long long>(run.pid));
  std::string id = run.id;
  for (const std::string* part : {&run.host, &key}) id += '\0' + *part;
  return id + '\0' + writer + (system ? "/system" : "/train");
}

bool same_point(const track::MetricPoint& a, const track::MetricPoint& b) {
  bool same_value = a.value == b.value || (std::isnan(a.value) && std::isnan(b.value));
  return a.step == b.step && a.time == b.time && same_value;
}

}  // namespace

std::shared_ptr<const SeriesCache::Points> SeriesCache::series(track::RunStore& store, const track::RunRecord& run,
                                                               const std::string& key, bool system) {
  if (max_points_ == 0) return std::make_shared<const Points>(store.metric_series(run.id, key, system));
  const std::string identity = identity_of(run, key, system);
  std::shared_ptr<const Points> cached;
  {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(identity);
    if (found != entries_.end()) {
      cached = found->second.points;
      found->second.last_used = ++clock_;
    }
  }
  std::shared_ptr<const Points> fresh;
  if (cached) {
    // From the newest point on, that point included: it may have been rewritten.
    const track::MetricPoint& newest = cached->back();
    Points tail = store.metric_series(run.id, key, system, system ? newest.time : static_cast<double>(newest.step));
    if (tail.size() == 1 && same_point(tail.front(), newest)) return cached;
    if (!tail.empty() && (system ? tail.front().time == newest.time : tail.front().step == newest.step)) {
      auto grown = std::make_shared<Points>();
      grown->reserve(cached->size() - 1 + tail.size());
      grown->assign(cached->begin(), cached->end() - 1);
      grown->insert(grown->end(), tail.begin(), tail.end());
      fresh = std::move(grown);
    }
    // Otherwise the newest point is gone (the run was deleted and made
    // again): read it whole, below.
  }
  if (!fresh) fresh = std::make_shared<const Points>(store.metric_series(run.id, key, system));
  keep(identity, fresh);
  return fresh;
}

void SeriesCache::keep(const std::string& identity, std::shared_ptr<const Points> points) {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(identity);
  if (found != entries_.end()) {
    cached_points_ -= found->second.points->size();
    entries_.erase(found);
  }
  if (points->empty() || points->size() > max_points_) return;
  cached_points_ += points->size();
  entries_[identity] = Entry{std::move(points), ++clock_};
  while (cached_points_ > max_points_) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    cached_points_ -= oldest->second.points->size();
    entries_.erase(oldest);
  }
}

}  // namespace kiln::ui
