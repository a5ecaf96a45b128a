// `kiln train`: compose, check and run one job, or a multirun of them one
// after another. Training itself happens in libkiln_runner.so (job_runner.h),
// so everything before it stays free of LibTorch and fast.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "commands.h"
#include "config_loading.h"
#include "job_runner.h"
#include "kiln/config/error.h"
#include "kiln/config/override.h"
#include "kiln/config/resolve.h"
#include "kiln/config/schema.h"
#include "kiln/config/sweep.h"
#include "kiln/config/yaml.h"
#include "kiln/track/env.h"
#include "kiln/track/run_dir.h"

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
};

TrainArgs parse_train_args(const Args& args) {
  TrainArgs out;
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

std::filesystem::path runs_root(const config::Node& resolved) {
  const config::Node* dir = config::select(resolved, {"run", "dir"});
  if (dir && dir->is_string() && !dir->as_string().empty()) return dir->as_string();
  return "runs";
}

// Atomic (temp name, fsync, rename) through the one file-system seam.
void write_file(const std::filesystem::path& path, const std::string& text) {
  Env::Default().write_file_atomic(path, text);
}

void print_summary(const track::RunDir& run, const JobSummary& summary) {
  std::printf("run         %s  (%s)\n", run.id.value.c_str(), run.path.string().c_str());
  std::printf("steps       %lld in %.1f s, %.0f samples/s\n", static_cast<long long>(summary.steps), summary.seconds,
              summary.samples_per_second);
  for (const char* stage : {"test/", "val/", "train/"}) {
    for (const auto& [name, value] : summary.metrics)
      if (name.starts_with(stage)) std::printf("%-11s %.4f\n", name.c_str(), value);
  }
}

namespace fs = std::filesystem;

// With trainer.resume set, the run directory to continue in: "last" is the
// run under `root` whose newest checkpoint is newest; a path may name a run
// directory, its checkpoints/ directory or one checkpoint in it.
std::optional<fs::path> run_dir_to_resume(const config::Node& resolved, const fs::path& root) {
  const config::Node* resume = config::select(resolved, {"trainer", "resume"});
  if (!resume || !resume->is_string()) return std::nullopt;
  const std::string& where = resume->as_string();
  std::error_code ec;
  if (where == "last") {
    std::optional<fs::path> best;
    fs::file_time_type newest{};
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      fs::path last = it->path() / "checkpoints" / "last";
      if (!fs::is_regular_file(last, ec)) continue;
      fs::file_time_type when = fs::last_write_time(last, ec);
      if (!ec && (!best || when > newest)) best = it->path(), newest = when;
    }
    if (best) return best;
    throw config::ConfigError(config::Diagnostic{"trainer.resume", resume->source(),
                                                 "no run under '" + root.string() + "' has a checkpoint to resume",
                                                 "train once without trainer.resume, or give a run directory"});
  }
  fs::path path(where);
  if (fs::is_directory(path / "checkpoints", ec)) return path;
  if (fs::is_regular_file(path / "last", ec)) return path.parent_path();
  if (fs::is_regular_file(path / "checkpoint.json", ec)) return path.parent_path().parent_path();
  throw config::ConfigError(config::Diagnostic{"trainer.resume", resume->source(),
                                               "'" + where + "' is not a run directory or a checkpoint",
                                               "use 'last', runs/<id>, or runs/<id>/checkpoints/step-<n>"});
}

// One job: compose, resolve strictly, validate (schemas, then every
// factory's parameters), record, train.
int run_job(const config::SearchPath& search_path, const TrainArgs& args,
            const std::vector<config::Override>& overrides) {
  config::Composer composer(search_path, compose_options());
  config::ComposeResult composed = composer.compose(args.config.config_name, overrides);
  config::Node resolved = config::resolve(composed.config);
  config::job_schema_registry().validate(resolved);
  const JobRunner& runner = job_runner();
  runner.validate(resolved);

  track::RunDir run;
  if (std::optional<fs::path> previous = run_dir_to_resume(resolved, runs_root(resolved))) {
    run.path = *previous;
    run.id = track::RunId{previous->filename().string(), track::RunIdSource::kKilnRunId};
    run.created = false;
    std::fprintf(stderr, "kiln: resuming run %s in %s\n", run.id.value.c_str(), run.path.string().c_str());
  } else {
    run = track::create_run_dir(runs_root(resolved), track::resolve_run_id());
    write_file(run.path / "config.yaml", config::to_yaml(resolved));
    config::Node override_list = config::Node::list();
    for (const auto& o : overrides) override_list.push_back(config::Node::string(o.text));
    write_file(run.path / "overrides.yaml", config::to_yaml(override_list));
    std::fprintf(stderr, "kiln: run %s -> %s\n", run.id.value.c_str(), run.path.string().c_str());
  }

  JobSummary summary = runner.run(resolved, run.path.string());
  print_summary(run, summary);
  return 0;
}

}  // namespace

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

  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (args.multirun) std::cerr << "kiln: launching job #" << i << " : " << join_overrides(jobs[i]) << "\n";
    run_job(search_path, args, jobs[i]);
  }
  return 0;
}

}  // namespace kiln::cli
