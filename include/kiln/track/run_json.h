// Runs of the store as JSON: what `kiln runs ls/show --json` print and the
// dashboard's /api/ serves, so both speak the same shapes (docs/run-store.md).
#pragma once

#include <vector>

#include "kiln/track/json.h"
#include "kiln/track/run_store.h"

namespace kiln::track {

// {"id", "name", "experiment", "status", "error", "start_time", "end_time",
//  "duration", "heartbeat", "user", "host", "pid", "git_commit", "sweep_id",
//  "dir", "tags"}
// Times are seconds since the Unix epoch; end_time is null while running,
// duration counts to the last heartbeat then.
JsonValue run_record_json(const RunRecord& run);

// A finite number, or null: JSON has no NaN, and a chart draws null as a gap.
JsonValue number_or_null(double value);

// {"last", "step", "time", "min", "max", "best", "count"}; a non-finite
// last, min, max or best is null.
JsonValue metric_summary_json(const MetricSummary& summary);

// {"<key>": metric_summary_json, ...}
JsonValue metric_summaries_json(const std::vector<MetricSummary>& summaries);

// {"<dotted key>": value, ...} with JSON types (null, bool, number, string).
JsonValue params_json(const std::vector<Param>& params);

JsonValue param_value_json(const ParamValue& value);

// Seconds from start to end (or to the last heartbeat while running).
double run_duration(const RunRecord& run);

}  // namespace kiln::track
