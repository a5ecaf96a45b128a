// `kiln train`: compose, check and run one job, or a multirun of them one
// after another. Training itself happens in libkiln_runner.so (job_runner.h),
// so everything before it stays free of LibTorch and fast.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "commands.h"
#include "config_loading.h"
#include "dataset_binding.h"
#include "job_runner.h"
#include "kill_watch.h"
#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "kiln/config/resolve.h"
#include "kiln/config/schema.h"
#include "kiln/config/sweep.h"
#include "kiln/config/yaml.h"
#include "kiln/dist/launcher.h"
#include "kiln/dist/world.h"
#include "kiln/track/env.h"
#include "kiln/track/run_dir.h"
#include "run_layout.h"
#include "run_manifest.h"
#include "run_recording.h"
#include "run_upload.h"
#include "stderr_tee.h"
#include "sweep_summary.h"
#include "train_job.h"

namespace kiln::cli {
namespace {

constexpr const char* kTrainUsage = R"(usage: kiln train [options] [overrides...]

Composes the experiment config (Hydra-style) and runs it.

options:
  -cd, --config-dir DIR    add DIR to the config search path (repeatable; first wins;
                           ./configs and kiln's shipped configs follow)
  -cn, --config-name NAME  primary config to compose (default: train)
  -c, --cfg job            print the composed config as YAML and exit (no run, no schema check)
  --resolve                with --cfg: resolve ${...} interpolations first
  --info                   print the search path, defaults tree and overrides, and exit
  -m, --multirun           expand sweeps (a=1,2 b=range(0,3) model=glob(*)) and run every job
  --dry-run                with -m: print the job list and exit
  -h, --help               this help, with every config group and parameter

overrides (Hydra grammar):
  key=value      set an existing key           +key=value   add a new key
  ++key=value    add or set                    ~key         delete a key
  group=option   select a config group option  +group=opt   append a group to the defaults
)";

struct TrainArgs {
  ConfigArgs config;
  std::string cfg;  // "" or "job"
  bool resolve = false;
  bool info = false;
  bool multirun = false;
  bool dry_run = false;
  bool help = false;
  Args raw;  // as given, for the workers trainer.devices > 1 starts
};

TrainArgs parse_train_args(const Args& args) {
  TrainArgs out;
  out.raw = args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag) -> std::string {
      std::string prefix = flag + "=";
      if (a.starts_with(prefix)) return a.substr(prefix.size());
      if (i + 1 >= args.size()) throw UsageError("kiln train: " + flag + " needs a value");
      return args[++i];
    };
    auto is = [&](const char* flag) { return a == flag || a.starts_with(std::string(flag) + "="); };
    if (is("--config-dir") || is("-cd")) {
      out.config.config_dirs.push_back(value(a.starts_with("-cd") ? "-cd" : "--config-dir"));
    } else if (is("--config-name") || is("-cn")) {
      out.config.config_name = value(a.starts_with("-cn") ? "-cn" : "--config-name");
    } else if (is("--cfg") || is("-c")) {
      out.cfg = value(a.starts_with("--") ? "--cfg" : "-c");
      if (out.cfg != "job")
        throw UsageError("kiln train: --cfg takes 'job' (the composed job config), found '" + out.cfg + "'");
    } else if (a == "--resolve") {
      out.resolve = true;
    } else if (a == "--info") {
      out.info = true;
    } else if (a == "-m" || a == "--multirun") {
      out.multirun = true;
    } else if (a == "--dry-run") {
      out.dry_run = true;
    } else if (a == "-h" || a == "--help") {
      out.help = true;
    } else if (a.starts_with("-") && a.size() > 1 && a.find('=') == std::string::npos) {
      throw UsageError("kiln train: unknown option '" + a + "' (see kiln train --help)");
    } else {
      out.config.overrides.push_back(a);
    }
  }
  if (out.resolve && out.cfg.empty()) throw UsageError("kiln train: --resolve goes with --cfg job");
  if (out.dry_run && !out.multirun) throw UsageError("kiln train: --dry-run goes with -m/--multirun");
  return out;
}

std::string join_overrides(const std::vector<config::Override>& overrides) {
  std::string out;
  for (const auto& o : overrides) out += (out.empty() ? "" : " ") + o.text;
  return out;
}

void print_info(const config::SearchPath& search_path, const config::ComposeResult& result, const std::string& dotenv) {
  std::cout << "Config search path (first wins):\n";
  for (const auto& root : search_path.roots()) std::cout << "  " << root->name() << "\n";
  if (!dotenv.empty()) std::cout << "Environment file: " << dotenv << "\n";
  std::cout << "\nDefaults tree (config -> package, file):\n";
  auto walk = [](auto&& self, const config::DefaultsTreeNode& node, int depth) -> void {
    std::cout << std::string(static_cast<std::size_t>(depth) * 2 + 2, ' ') << node.config_path;
    std::cout << " -> " << (node.package.empty() ? "<root>" : node.package) << "  (" << node.file << ")\n";
    for (const auto& child : node.children) self(self, child, depth + 1);
  };
  walk(walk, result.defaults_tree, 0);
  std::cout << "\nChoices:\n";
  for (const auto& [group, option] : result.choices) std::cout << "  " << group << ": " << option << "\n";
  std::cout << "\nOverrides:\n";
  if (result.group_overrides.empty() && result.key_overrides.empty()) std::cout << "  (none)\n";
  for (const auto& o : result.group_overrides) std::cout << "  #" << o.index << " " << o.text << "  (group)\n";
  for (const auto& o : result.key_overrides) std::cout << "  #" << o.index << " " << o.text << "\n";
}

void print_help(const config::SearchPath& search_path, const TrainArgs& args,
                const std::vector<config::Override>& overrides) {
  std::cout << kTrainUsage << "\nconfig groups (group=option):\n";
  for (const auto& group : search_path.groups()) {
    std::string options;
    for (const auto& o : search_path.options(group)) options += (options.empty() ? "" : ", ") + o;
    std::cout << "  " << group << ": " << options << "\n";
  }
  // Current values come from the composed config; a config that does not
  // compose still gets its help, without them.
  std::optional<config::Node> current;
  try {
    config::Composer composer(search_path, compose_options());
    current = config::resolve(composer.compose(args.config.config_name, overrides).config,
                              config::ResolveOptions{.allow_missing = true});
  } catch (const config::ConfigError& e) {
    std::cout << "\n(the config does not compose, so current values are not shown:\n" << e.what() << ")\n";
  }
  std::cout << "\nparameters (key  type  default  current  doc):\n";
  std::cout << config::job_schema_registry().help(current ? &*current : nullptr);
}

namespace fs = std::filesystem;

void print_summary(const fs::path& run_dir, const track::RunId& id, const JobSummary& summary) {
  std::printf("run         %s  (%s)\n", id.value.c_str(), run_dir.string().c_str());
  std::printf("steps       %lld in %.1f s, %.0f samples/s\n", static_cast<long long>(summary.steps), summary.seconds,
              summary.samples_per_second);
  for (const char* stage : {"test/", "val/", "train/"}) {
    for (const auto& [name, value] : summary.metrics)
      if (name.starts_with(stage)) std::printf("%-11s %.4f\n", name.c_str(), value);
  }
}

// A job whose config composed, resolved and passed every check: nothing
// has been written for it yet.
struct PreparedJob {
  std::vector<config::Override> overrides;
  config::ComposeResult composed;
  config::Node resolved;                    // recorded: data.dataset as written
  std::map<std::string, std::string> tags;  // set on the run in the store
  config::Node runnable;                    // trained: data.dataset bound (dataset_binding.h)
  std::optional<BoundDataset> dataset;
  std::optional<data::S3Location> upload;  // run.upload_to, checked
};

// Validates `job.resolved` with its dataset looked up but not fetched, so a
// typo anywhere costs no download; then makes the dataset local.
void check_and_bind(PreparedJob& job) {
  config::Node checked = bind_dataset(job.resolved, false).runnable;
  config::job_schema_registry().validate(checked);
  experiment_name(job.resolved);
  job.upload = upload_target(job.resolved);
  job_runner().validate(checked);
  DatasetBinding binding = bind_dataset(job.resolved);
  job.runnable = std::move(binding.runnable);
  job.dataset = std::move(binding.dataset);
}

// Compose, resolve strictly, validate (schemas, then every factory's
// parameters). Throws ConfigError.
PreparedJob prepare_job(config::Composer& composer, const TrainArgs& args,
                        const std::vector<config::Override>& overrides) {
  PreparedJob job{overrides, composer.compose(args.config.config_name, overrides), {}, {}, {}, {}};
  job.resolved = config::resolve(job.composed.config);
  check_and_bind(job);
  return job;
}

struct JobOutcome {
  fs::path run_dir;
  track::RunId id;
  JobSummary summary;
};

// Records and trains one prepared job in `run_dir` (created by the caller,
// or an existing run when resuming). The manifest ends FINISHED or FAILED;
// errors propagate after it is written.
// A data-parallel rank other than zero: trains (its gradients are averaged
// with rank zero's), writes train.rank<R>.log and nothing else.
JobOutcome train_as_other_rank(const PreparedJob& job, const fs::path& run_dir, const track::RunId& id, int rank) {
  const JobRunner& runner = job_runner();
  JobOutcome outcome{run_dir, id, {}};
  StderrTee tee(run_dir / ("train.rank" + std::to_string(rank) + ".log"));
  std::fprintf(stderr, "kiln: rank %d of run %s in %s\n", rank, id.value.c_str(), run_dir.string().c_str());
  outcome.summary = runner.run(job.runnable, run_dir.string(), {});
  return outcome;
}

JobOutcome train_in(const PreparedJob& job, const TrainArgs& args, const fs::path& run_dir, const track::RunId& id,
                    bool resumed, std::optional<fs::path> sweep_dir = std::nullopt, std::size_t job_index = 0) {
  // Under a launcher every rank runs this in the same run directory; rank
  // zero records the run, the others only keep their own log.
  const dist::World world = dist::world_from_env();
  if (world.rank != 0) return train_as_other_rank(job, run_dir, id, world.rank);
  if (!resumed) write_run_config(run_dir, job.composed, job.resolved, job.overrides);
  RunStart start{id,
                 run_dir,
                 experiment_name(job.resolved),
                 args.config.config_name,
                 &job.resolved,
                 job.overrides,
                 resumed,
                 std::move(sweep_dir),
                 job_index,
                 job.dataset ? &*job.dataset : nullptr};
  RunManifest manifest(start);
  std::unique_ptr<track::RunRecorder> recorder = start_recording(job.resolved, start, manifest, job.tags);
  auto record_end = [&](track::RunStatus status, const std::string& error, bool with_artifacts) {
    if (!recorder) return;
    std::vector<track::Artifact> artifacts = with_artifacts ? list_artifacts(run_dir) : std::vector<track::Artifact>{};
    recorder->end(status, error, track::to_json(manifest.document()), artifacts);
  };
  const JobRunner& runner = job_runner();
  JobOutcome outcome{run_dir, id, {}};
  // Before the tee and the trainer start their threads (see kill_watch.h).
  KillWatch kill_watch([&](int signal_number) {
    manifest.kill(signal_number);
    record_end(track::RunStatus::kKilled, std::string("killed by SIG") + sigabbrev_np(signal_number), false);
  });
  std::vector<Logger*> loggers;
  if (recorder) loggers.push_back(recorder.get());
  try {
    StderrTee tee(run_dir / "train.log");
    std::fprintf(stderr, "kiln: %s run %s in %s\n", resumed ? "resuming" : "starting", id.value.c_str(),
                 run_dir.string().c_str());
    outcome.summary = runner.run(job.runnable, run_dir.string(), loggers);
  } catch (const std::exception& e) {
    manifest.fail(e.what(), runner.describe_runtime());
    record_end(track::RunStatus::kFailed, e.what(), true);
    throw;
  }
  manifest.finish(outcome.summary, runner.describe_runtime());
  record_end(track::RunStatus::kFinished, "", true);
  if (job.upload) {
    const UploadSummary uploaded = upload_run(run_dir, *job.upload, experiment_name(job.resolved));
    std::fprintf(stderr, "kiln: uploaded %zu files (%ju bytes) to %s\n", uploaded.files, uploaded.bytes,
                 uploaded.url.c_str());
  }
  return outcome;
}

// trainer.devices (1 when absent or not an integer: the schema has said so).
std::int64_t devices_of(const config::Node& resolved) {
  const config::Node* trainer = resolved.find("trainer");
  const config::Node* devices = trainer && trainer->is_map() ? trainer->find("devices") : nullptr;
  return devices && devices->kind() == config::Kind::kInt ? devices->as_int() : 1;
}

// `kiln train trainer.devices=N` outside a launcher: this same command as N
// workers under `kiln launch` (Lightning starts its processes the same way),
// which share one run id and so one run directory.
int launch_devices(std::int64_t devices, const TrainArgs& args) {
  dist::LaunchOptions launch;
  launch.nproc_per_node = static_cast<int>(devices);
  launch.master_port = 0;
  launch.log_dir.clear();  // each rank's log is in the run directory already (train.rank<R>.log)
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  launch.command = {ec ? std::string("kiln") : self.string(), "train"};
  launch.command.insert(launch.command.end(), args.raw.begin(), args.raw.end());
  std::cerr << "kiln: trainer.devices=" << devices << ": starting " << devices << " workers with kiln launch\n";
  return dist::launch(launch);
}

// One job: a new run under runs/<experiment>/, or the run it resumes.
int run_single(config::Composer& composer, const TrainArgs& args, const std::vector<config::Override>& overrides) {
  PreparedJob job = prepare_job(composer, args, overrides);
  if (std::int64_t devices = devices_of(job.resolved); devices > 1 && !dist::world_from_env().distributed())
    return launch_devices(devices, args);
  fs::path root = runs_root(job.resolved);
  JobOutcome outcome;
  if (std::optional<fs::path> previous = run_dir_to_resume(job.resolved, root)) {
    outcome = train_in(job, args, *previous, run_id_of(*previous), true);
  } else {
    track::RunDir run = track::create_run_dir(root / experiment_name(job.resolved), track::resolve_run_id());
    outcome = train_in(job, args, run.path, run.id, false);
  }
  print_summary(outcome.run_dir, outcome.id, outcome.summary);
  return 0;
}

// Every job of a multirun, one after another, each its own run in
// <root>/multirun/<date>_<time>_<id>/<job>/. All jobs are checked before the
// first starts, so a typo in the last one costs nothing. A job that fails
// is recorded and the rest still run; the exit code is then 1.
int run_multirun(config::Composer& composer, const TrainArgs& args,
                 const std::vector<std::vector<config::Override>>& job_overrides) {
  std::vector<PreparedJob> jobs;
  config::Diagnostics problems;
  for (const auto& overrides : job_overrides)
    problems.collect([&] { jobs.push_back(prepare_job(composer, args, overrides)); });
  problems.throw_if_any();

  track::RunIdEnv id_env;
  track::RunDir sweep = track::create_run_dir(runs_root(jobs.front().resolved) / "multirun",
                                              track::RunId{track::generate_run_id(id_env)});
  std::fprintf(stderr, "kiln: multirun of %zu jobs in %s\n", jobs.size(), sweep.path.string().c_str());

  std::vector<SweepRow> rows;
  config::Node record = config::Node::map();
  record.set("sweep_id", config::Node::string(sweep.id.value));
  record.set("jobs", config::Node::list());
  bool any_failed = false;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const PreparedJob& job = jobs[i];
    SweepRow row{i, join_overrides(job.overrides), "FINISHED", "", 0, {}};
    std::cerr << "kiln: job #" << i << " : " << row.overrides << "\n";
    fs::path run_dir = sweep.path / std::to_string(i);
    track::RunId id{track::generate_run_id(id_env)};
    Env::Default().create_dirs(run_dir);
    row.run_dir = run_dir.string();
    try {
      JobOutcome outcome = train_in(job, args, run_dir, id, false, sweep.path, i);
      row.metrics = outcome.summary.metrics;
      row.seconds = outcome.summary.seconds;
    } catch (const kiln::Error& e) {
      row.status = "FAILED";
      any_failed = true;
      std::cerr << "kiln: job #" << i << " failed: " << e.what() << "\n";
    }
    config::Node entry = config::Node::map();
    entry.set("index", config::Node::integer(static_cast<std::int64_t>(i)));
    entry.set("run_id", config::Node::string(id.value));
    entry.set("dir", config::Node::string(std::to_string(i)));
    entry.set("overrides", config::Node::string(row.overrides));
    entry.set("status", config::Node::string(row.status));
    config::Node metrics = config::Node::map();
    for (const auto& [name, value] : row.metrics) metrics.set(name, config::Node::floating(value));
    entry.set("metrics", std::move(metrics));
    record.find("jobs")->push_back(std::move(entry));
    // Rewritten after every job: a sweep stopped half-way still says what ran.
    Env::Default().write_file_atomic(sweep.path / "multirun.yaml", config::to_yaml(record));
    rows.push_back(std::move(row));
  }
  std::cout << "multirun    " << sweep.id.value << "  (" << sweep.path.string() << ")\n" << format_sweep_table(rows);
  return any_failed ? 1 : 0;
}

}  // namespace

TrainedRun train_complete_job(const CompleteJob& complete) {
  PreparedJob job{complete.overrides,
                  config::ComposeResult{complete.composed, {}, {}, {}, {}},
                  complete.resolved,
                  complete.tags,
                  {},
                  {}};
  check_and_bind(job);
  track::RunDir run =
      track::create_run_dir(runs_root(job.resolved) / experiment_name(job.resolved), track::resolve_run_id());
  TrainArgs args;
  JobOutcome outcome = train_in(job, args, run.path, run.id, false);
  return TrainedRun{outcome.run_dir, outcome.id.value, outcome.summary};
}

int run_train(const Args& raw_args) {
  TrainArgs args = parse_train_args(raw_args);
  config::SearchPath search_path = make_search_path(args.config.config_dirs);
  std::string dotenv = load_dotenv_near_configs(search_path);
  std::vector<config::Override> overrides = config::parse_overrides(args.config.overrides);

  if (args.help) {
    print_help(search_path, args, overrides);
    return 0;
  }

  std::vector<std::vector<config::Override>> jobs;
  if (args.multirun) {
    jobs = config::expand_sweeps(overrides, [&](const std::string& group) { return search_path.options(group); });
  } else {
    config::reject_sweeps(overrides);
    jobs.push_back(overrides);
  }

  if (args.dry_run) {
    std::cout << "Multirun: " << jobs.size() << " job" << (jobs.size() == 1 ? "" : "s") << "\n";
    for (std::size_t i = 0; i < jobs.size(); ++i) std::cout << "#" << i << " : " << join_overrides(jobs[i]) << "\n";
    return 0;
  }

  if (args.info || !args.cfg.empty()) {
    config::Composer composer(search_path, compose_options());
    for (const auto& job : jobs) {
      config::ComposeResult composed = composer.compose(args.config.config_name, job);
      if (args.info) {
        print_info(search_path, composed, dotenv);
      } else if (args.resolve) {
        std::cout << config::to_yaml(config::resolve(composed.config, config::ResolveOptions{.allow_missing = true}));
      } else {
        std::cout << config::to_yaml(composed.config);
      }
    }
    return 0;
  }

  config::Composer composer(search_path, compose_options());
  if (args.multirun) return run_multirun(composer, args, jobs);
  return run_single(composer, args, jobs.front());
}

}  // namespace kiln::cli
