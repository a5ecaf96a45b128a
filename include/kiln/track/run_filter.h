// The `kiln runs ls --where` and `--sort` languages, compiled to SQLite SQL
// for the run store (run_store.h). Torch-free; docs/run-filter.md is the
// reference for users.
//
// A filter is MLflow's search_runs filter, extended:
//
//   metrics.val/acc > 0.9 and params.optimizer.lr < 1e-3
//   (status = 'failed' or status = 'killed') and not tags.note like '%smoke%'
//   params.model._target_ in ('cnn', 'mlp') and duration >= 600
//   metrics.`my metric` is not null
//
// Fields: metrics.<key> (the latest value), params.<key> (the flattened
// config, typed), tags.<key> (text), and the attributes id, name,
// experiment, status, error, user, host, git_commit, sweep_id (text),
// start_time, end_time, heartbeat, duration (seconds). Operators: = == !=
// <> < <= > >=, [NOT] LIKE (case-sensitive) and [NOT] ILIKE with % and _,
// [NOT] IN (...), IS [NOT] NULL; and, or, not and parentheses, with not
// binding tighter than and, and tighter than or. Keywords are
// case-insensitive.
//
// Logic is two-valued: a comparison with a missing value (a run without
// that metric, param or tag, or an empty attribute) is false, whatever the
// operator, `!=` and `not in` included, and `not` of it is true. So `not A`
// always selects exactly the runs `A` does not; `IS NULL` finds the runs
// without a value.
//
// Every literal and every key is a bound parameter, never SQL text, so no
// input can change the query's shape.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/track/run_store.h"

namespace kiln::track {

// A piece of SQL and the values for its '?' placeholders, in order.
struct SqlFragment {
  std::string sql;
  std::vector<ParamValue> bindings;
};

// Compiles a --where expression into a boolean SQL expression over `runs`
// joined with `experiments` (the store's list query). An empty or blank
// expression matches every run ("1").
//
// Throws kiln::UsageError (exit code 2) on bad input, saying what was
// expected, where, and showing the expression with a caret:
//   --where: expected a value after '>' at column 19
//     metrics.val/acc > and params.lr < 1
//                       ^
// Unknown attributes and statuses come with a "did you mean".
SqlFragment compile_run_filter(std::string_view expression);

// Compiles a --sort list into an ORDER BY body (without "ORDER BY"): comma-
// separated fields as in the filter, each ascending unless it has a leading
// '-' (or a trailing `desc`). Runs without a value sort last in either
// direction; ties fall back to the default order. Empty or blank gives the
// default, newest first: "runs.start_time DESC, runs.id DESC".
// Throws kiln::UsageError like compile_run_filter, prefixed "--sort:".
SqlFragment compile_run_sort(std::string_view sort);

}  // namespace kiln::track
