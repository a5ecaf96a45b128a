// Why do two runs differ? `kiln runs diff A B` and the dashboard's diff view
// both print this: the config keys that changed, the environment that
// changed (kiln commit, LibTorch, hardware, data file hashes: read from the
// two manifests) and every metric's final and best values with deltas.
//
// Thread safety: plain functions over a RunStore (one connection: see
// run_store.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kiln/track/json.h"
#include "kiln/track/run_store.h"

namespace kiln::track {

// One key whose value differs; a side without the key has nullopt.
struct ValueChange {
  std::string key;
  std::optional<std::string> a;
  std::optional<std::string> b;
};

struct MetricComparison {
  std::string key;
  std::optional<MetricSummary> a;
  std::optional<MetricSummary> b;
  // b.last - a.last and b.best - a.best, when both sides have the metric.
  std::optional<double> last_delta() const;
  std::optional<double> best_delta() const;
};

struct RunDiff {
  RunRecord a;
  RunRecord b;
  std::vector<ValueChange> params;        // config keys, sorted
  std::vector<ValueChange> environment;   // "kiln.commit", "libtorch", "host.cpu", "data.<path>.sha256", ...
  std::vector<MetricComparison> metrics;  // every metric either run logged, sorted
};

RunDiff diff_runs(RunStore& store, const RunRecord& a, const RunRecord& b);

// The environment facts of a manifest, flattened ("kiln.version",
// "kiln.commit", "libtorch", "host.cpu", "data.<path>.sha256", ...): what
// diff_runs compares and `kiln reproduce` checks before re-running.
std::vector<std::pair<std::string, std::string>> manifest_environment(const std::string& manifest_json);

// The diff as JSON (for --json and the dashboard's /api/diff).
JsonValue run_diff_json(const RunDiff& diff);

}  // namespace kiln::track
