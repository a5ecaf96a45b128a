// Runs of the store as JSON: what `kiln runs ls/show --json` print and the
// dashboard's /api/ serves, so both speak the same shapes (docs/run-store.md).
#pragma once

#include <vector>

#include "kiln/track/json.h"
#include "kiln/track/run_store.h"

namespace kiln::track {

// {"id", "name", "experiment", "status", "error", "start_time", "end_time",
//  "duration", "user", "host", "pid", "git_commit", "sweep_id", "dir", "tags"}
// Times are seconds since the Unix epoch; end_time is null while running,
// duration counts to the last heartbeat then.
JsonValue run_record_json(const RunRecord& run);

// {"<key>": {"last", "step", "time", "min", "max", "best", "count"}, ...}
JsonValue metric_summaries_json(const std::vector<MetricSummary>& summaries);

// {"<dotted key>": value, ...} with JSON types (null, bool, number, string).
JsonValue params_json(const std::vector<Param>& params);

JsonValue param_value_json(const ParamValue& value);

// Seconds from start to end (or to the last heartbeat while running).
double run_duration(const RunRecord& run);

}  // namespace kiln::track
