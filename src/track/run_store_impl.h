// RunStore's connection, shared by its writing (run_store.cpp) and reading
// (run_store_queries.cpp) halves. Private to kiln_track.
#pragma once

#include <string>

#include "kiln/track/run_store.h"
#include "sqlite.h"

namespace kiln::track {

struct RunStore::Impl {
  Impl(const RunStoreOptions& options, const std::string& path) : options(options), db(path, options.read_only) {}
  RunStoreOptions options;
  sqlite::Database db;
};

// Builds a RunRecord from a row of kRunColumns (below), tags not included.
RunRecord read_run_row(const sqlite::Statement& row);

// The columns read_run_row expects, in order, for
// "SELECT <kRunColumns> FROM runs JOIN experiments ON experiments.id = runs.experiment_id".
inline constexpr const char* kRunColumns =
    "runs.id, runs.name, experiments.name, runs.status, runs.error, runs.start_time, runs.end_time, "
    "runs.heartbeat, runs.user, runs.host, runs.pid, runs.git_commit, runs.sweep_id, runs.dir";

}  // namespace kiln::track
