// How `kiln runs show` and `kiln runs diff` print a run and a diff.
#pragma once

#include <string>

#include "kiln/track/json.h"
#include "kiln/track/run_diff.h"
#include "kiln/track/run_store.h"

namespace kiln::cli {

// "2026-11-23 16:58:01" in local time.
std::string format_time(double unix_seconds);
// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

// Sections: run (id, name, status, times, host, dir, tags), environment
// (from the manifest), metrics (last, best, min, max, step, points),
// params (the flattened config), artifacts.
std::string format_run_details(track::RunStore& store, const track::RunRecord& run);
track::JsonValue run_details_json(track::RunStore& store, const track::RunRecord& run);

// Sections: config (key: a -> b), environment, metrics (a, b, delta).
std::string format_run_diff(const track::RunDiff& diff);

}  // namespace kiln::cli
