// `kiln runs ls|show|diff|compare|tag|rm`: the run store from the command
// line. Thin: parsing and printing; the queries live in kiln_track.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>

#include "commands.h"
#include "kiln/config/error.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/run_diff.h"
#include "kiln/track/run_json.h"
#include "kiln/track/run_store.h"
#include "run_display.h"
#include "store_args.h"
#include "text_table.h"

namespace kiln::cli {
namespace {

constexpr const char* kRunsUsage = R"(usage: kiln runs <command> [options]

The run store: every `kiln train` is recorded in <run.root>/kiln.db.

commands:
  ls                       table of runs (newest first)
      --where EXPR         filter, e.g. "metrics.val/acc > 0.9 and params.optimizer.lr < 1e-3"
                           (docs/run-filter.md)
      --sort KEYS          e.g. -metrics.val/acc,start_time ('-' = descending)
      --limit N            at most N runs (default 50; 0 = all)
      --metrics K1,K2      metric columns (default: the test/ and val/ metrics)
      --json | --csv       machine-readable output
  show RUN [--json]        config, manifest summary, final and best metrics, artifacts
  diff RUN_A RUN_B [--json]
                           what differs: config keys, environment, metrics
  compare RUN... [--metrics K1,K2] [--csv]
                           metrics side by side
  tag RUN KEY=VALUE...     set tags
  rm RUN... [--yes]        remove runs: their directories and their rows

RUN is a run id, a unique id prefix, a run name (its newest run) or `last`.

options (every command):
  --store PATH             the store (default $KILN_STORE, else runs/kiln.db)
)";

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// The metric columns of a run table: the ones asked for, else the test/
// and val/ metrics any listed run has.
std::vector<std::string> metric_columns(const std::vector<std::vector<track::MetricSummary>>& per_run,
                                        const std::vector<std::string>& requested) {
  if (!requested.empty()) return requested;
  std::vector<std::string> out;
  for (const char* stage : {"test/", "val/"}) {
    std::set<std::string> names;
    for (const auto& summaries : per_run)
      for (const track::MetricSummary& m : summaries)
        if (m.key.starts_with(stage)) names.insert(m.key);
    out.insert(out.end(), names.begin(), names.end());
  }
  return out;
}

std::string metric_cell(const std::vector<track::MetricSummary>& summaries, const std::string& key) {
  for (const track::MetricSummary& m : summaries)
    if (m.key == key) return format_number(m.last.value);
  return "-";
}

int runs_ls(StoreArgs& args) {
  track::RunQuery query{args.take_value("--where").value_or(""), args.take_value("--sort").value_or(""), 50};
  if (auto limit = args.take_value("--limit")) query.limit = parse_count("--limit", *limit);
  std::vector<std::string> requested = split_list(args.take_value("--metrics").value_or(""));
  bool json = args.take_flag("--json");
  bool csv = args.take_flag("--csv");
  args.expect_positionals(0, 0, "kiln runs ls");
  track::RunStore store = args.open_store();
  std::vector<track::RunRecord> runs = store.list_runs(query);
  std::vector<std::string> ids;
  for (const track::RunRecord& run : runs) ids.push_back(run.id);
  std::vector<std::vector<track::MetricSummary>> summaries = store.metric_summaries(ids);

  if (json) {
    track::JsonValue out = track::JsonValue::array();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      track::JsonValue entry = track::run_record_json(runs[i]);
      entry.set("metrics", track::metric_summaries_json(summaries[i]));
      out.push_back(std::move(entry));
    }
    std::cout << track::to_json(out, 2) << "\n";
    return 0;
  }
  std::vector<std::string> columns = metric_columns(summaries, requested);
  TableRows rows = {{"id", "name", "experiment", "status", "start", "duration"}};
  rows[0].insert(rows[0].end(), columns.begin(), columns.end());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const track::RunRecord& run = runs[i];
    std::vector<std::string> row = {run.id,
                                    run.name.empty() ? "-" : run.name,
                                    run.experiment,
                                    std::string(track::run_status_name(run.status)),
                                    format_time(run.start_time),
                                    format_duration(track::run_duration(run))};
    for (const std::string& key : columns) row.push_back(metric_cell(summaries[i], key));
    rows.push_back(std::move(row));
  }
  std::cout << (csv ? format_csv(rows) : format_table(rows));
  if (!csv && runs.empty())
    std::cerr << "kiln: no runs" << (query.where.empty() ? "" : " match --where") << " in " << store.path().string()
              << "\n";
  return 0;
}

int runs_show(StoreArgs& args) {
  bool json = args.take_flag("--json");
  args.expect_positionals(1, 1, "kiln runs show RUN");
  track::RunStore store = args.open_store();
  track::RunRecord run = resolve_or_throw(store, args.positionals[0]);
  if (json) {
    std::cout << track::to_json(run_details_json(store, run), 2) << "\n";
  } else {
    std::cout << format_run_details(store, run);
  }
  return 0;
}

int runs_diff(StoreArgs& args) {
  bool json = args.take_flag("--json");
  args.expect_positionals(2, 2, "kiln runs diff RUN_A RUN_B");
  track::RunStore store = args.open_store();
  track::RunRecord a = resolve_or_throw(store, args.positionals[0]);
  track::RunRecord b = resolve_or_throw(store, args.positionals[1]);
  track::RunDiff diff = track::diff_runs(store, a, b);
  if (json) {
    std::cout << track::to_json(track::run_diff_json(diff), 2) << "\n";
  } else {
    std::cout << format_run_diff(diff);
  }
  return 0;
}

int runs_compare(StoreArgs& args) {
  std::vector<std::string> requested = split_list(args.take_value("--metrics").value_or(""));
  bool csv = args.take_flag("--csv");
  args.expect_positionals(1, SIZE_MAX, "kiln runs compare RUN...");
  track::RunStore store = args.open_store();
  std::vector<track::RunRecord> runs;
  std::vector<std::vector<track::MetricSummary>> summaries;
  for (const std::string& ref : args.positionals) {
    runs.push_back(resolve_or_throw(store, ref));
    summaries.push_back(store.metric_summaries(runs.back().id));
  }
  std::vector<std::string> keys = requested;
  if (keys.empty()) {
    std::set<std::string> all;
    for (const auto& list : summaries)
      for (const track::MetricSummary& m : list) all.insert(m.key);
    keys.assign(all.begin(), all.end());
  }
  TableRows rows = {{"metric"}};
  for (const track::RunRecord& run : runs)
    rows[0].push_back(run.name.empty() ? run.id : run.id + " (" + run.name + ")");
  for (const std::string& key : keys) {
    std::vector<std::string> row = {key};
    for (const auto& list : summaries) row.push_back(metric_cell(list, key));
    rows.push_back(std::move(row));
  }
  std::cout << (csv ? format_csv(rows) : format_table(rows));
  return 0;
}

int runs_tag(StoreArgs& args) {
  args.expect_positionals(2, SIZE_MAX, "kiln runs tag RUN KEY=VALUE...");
  track::RunStore store = args.open_store();
  track::RunRecord run = resolve_or_throw(store, args.positionals[0]);
  for (std::size_t i = 1; i < args.positionals.size(); ++i) {
    const std::string& pair = args.positionals[i];
    std::size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("kiln runs tag: expected KEY=VALUE, found '" + pair + "' (argument " + std::to_string(i + 1) +
                       ")");
    store.set_tag(run.id, pair.substr(0, eq), pair.substr(eq + 1));
  }
  std::cout << "tagged " << run.id << "\n";
  return 0;
}

// Refuses to delete a directory that is not a kiln run (a store row whose
// dir points elsewhere must not cost a user their files).
void check_is_run_dir(const track::RunRecord& run) {
  Env& env = Env::Default();
  if (env.exists(run.dir) && !env.exists(run.dir / ".kiln"))
    throw Error("run " + run.id + ": '" + run.dir.string() +
                "' has no .kiln/ directory, so it is not a kiln run directory; not removing it\n"
                "  hint: remove it yourself, then `kiln runs rm` removes the rows");
}

int runs_rm(StoreArgs& args) {
  bool yes = args.take_flag("--yes") || args.take_flag("-y");
  args.expect_positionals(1, SIZE_MAX, "kiln runs rm RUN...");
  track::RunStore store = args.open_store();
  std::vector<track::RunRecord> runs;
  for (const std::string& ref : args.positionals) runs.push_back(resolve_or_throw(store, ref));
  for (const track::RunRecord& run : runs) check_is_run_dir(run);
  if (!yes) {
    if (!isatty(STDIN_FILENO))
      throw UsageError("kiln runs rm: not a terminal, so cannot ask; pass --yes to remove " +
                       std::to_string(runs.size()) + " run(s)");
    for (const track::RunRecord& run : runs) std::cout << "  " << run.id << "  " << run.dir.string() << "\n";
    std::cout << "remove these " << runs.size() << " run(s) and their directories? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::cout << "nothing removed\n";
      return 1;
    }
  }
  for (const track::RunRecord& run : runs) {
    // Directory first: a failure leaves the rows, so the run is still listed.
    Env::Default().remove_all(run.dir);
    store.delete_run(run.id);
    std::cout << "removed " << run.id << "\n";
  }
  return 0;
}

}  // namespace

int run_runs(const Args& raw) {
  if (raw.empty() || raw[0] == "-h" || raw[0] == "--help") {
    std::cout << kRunsUsage;
    return raw.empty() ? static_cast<int>(ExitCode::kConfig) : 0;
  }
  StoreArgs args(Args(raw.begin() + 1, raw.end()));
  const std::string& command = raw[0];
  if (command == "ls" || command == "list") return runs_ls(args);
  if (command == "show") return runs_show(args);
  if (command == "diff") return runs_diff(args);
  if (command == "compare") return runs_compare(args);
  if (command == "tag") return runs_tag(args);
  if (command == "rm") return runs_rm(args);
  std::string hint = config::did_you_mean(command, {"ls", "show", "diff", "compare", "tag", "rm"});
  throw UsageError("kiln runs: unknown command '" + command + "'" + (hint.empty() ? "" : "; " + hint) +
                   " (see kiln runs --help)");
}

}  // namespace kiln::cli
