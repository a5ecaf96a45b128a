// The JSON shapes of the dashboard API (private to kiln_ui; docs/ui.md shows
// them). One function per shape, so the page, the docs and the tests agree
// on field names.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "kiln/track/json.h"
#include "kiln/track/run_store.h"

namespace kiln::ui::api {

// A run's record and its metric summaries are track/run_json.h's shapes,
// shared with `kiln runs ... --json`.
// [{key, type, value}] with value typed as the config had it.
track::JsonValue params(const std::vector<track::Param>& params);
track::JsonValue artifacts(const std::vector<track::Artifact>& artifacts);
// The /api/runs body {store_exists, total, runs: [run_record_json + {metrics:
// metric_summaries_json}], metric_keys}, written straight to text
// (run_table_json.cpp): building the JsonValue tree of a 10,000-run table
// cost more than reading it. tests/ui/dashboard_test.cpp checks that each
// run reads back equal to track::run_record_json's.
std::string run_table_json(bool store_exists, std::int64_t total, const std::vector<track::RunRecord>& runs,
                           const std::vector<std::vector<track::MetricSummary>>& summaries);
// {key, system, count, overview, steps, times, values}: the points at
// `kept` (indices into `points`), columnar as uPlot draws them. count is
// the series' stored points; overview says `points` came from the store's
// step buckets rather than being the whole series.
track::JsonValue series(const std::string& key, bool system, std::int64_t count, bool overview,
                        const std::vector<track::MetricPoint>& points, std::span<const std::size_t> kept);

}  // namespace kiln::ui::api
