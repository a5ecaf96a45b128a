// `kiln reproduce RUN`: re-run a recorded run from its record and check that
// it comes out the same: every logged metric point and the final weights.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "kiln/config/override.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/run_diff.h"
#include "kiln/track/sha256.h"
#include "kiln/version.h"
#include "reproduction_check.h"
#include "store_args.h"
#include "train_job.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kReproduceUsage = R"(usage: kiln reproduce RUN [--tolerance T] [--store PATH]

Re-runs a recorded run with its resolved config and seed, as a new run tagged
reproduction_of=<RUN's id> in the same store, then compares every logged
metric point and the final weights (the last checkpoint's .safetensors files).
Prints PASS, or FAIL with the first divergence; exit code 0 / 1.

  --tolerance T   largest |original - reproduction| still equal (default 0:
                  bitwise; a CPU run of unchanged code and data passes with 0)
  --store PATH    the store (default $KILN_STORE, else runs/kiln.db)

RUN is a run id, a unique id prefix, a run name or `last`.
Before training it warns when the kiln commit, the LibTorch version or a data
file's SHA-256 differs from the recorded run's.
)";

config::Node load_run_file(const fs::path& path) {
  if (!Env::Default().exists(path))
    throw Error("cannot reproduce: '" + path.string() + "' is missing (the run directory is incomplete)");
  return config::load_yaml_file(path.string()).root;
}

// The overrides the original was started with, from its manifest.
std::vector<config::Override> recorded_overrides(const track::JsonValue& manifest) {
  std::vector<std::string> texts;
  if (const track::JsonValue* list = manifest.find("overrides"); list && list->is_array())
    for (const track::JsonValue& item : list->items())
      if (item.is_string()) texts.push_back(item.text());
  return config::parse_overrides(texts);
}

// Warnings for what differs from the recorded environment before training:
// the data files as they are now, this kiln's commit.
void warn_about_environment(const track::JsonValue& manifest) {
  auto recorded = [&](const char* section, const char* key) -> std::string {
    const track::JsonValue* object = manifest.find(section);
    const track::JsonValue* value = object ? object->find(key) : nullptr;
    return value && value->is_string() ? value->text() : "";
  };
  if (std::string commit = recorded("kiln", "commit"); !commit.empty() && commit != git_commit())
    std::cerr << "kiln: warning: the run was made by kiln " << commit << ", this is " << git_commit() << "\n";
  const track::JsonValue* data = manifest.find("data");
  if (!data || !data->is_array()) return;
  for (const track::JsonValue& file : data->items()) {
    const track::JsonValue* path = file.find("path");
    const track::JsonValue* sha = file.find("sha256");
    if (!path || !sha) continue;
    if (!Env::Default().exists(path->text())) {
      std::cerr << "kiln: warning: data file " << path->text() << " is gone\n";
      continue;
    }
    std::string now = sha256_file_hex(path->text());
    if (now != sha->text())
      std::cerr << "kiln: warning: data file " << path->text() << " changed since the run (sha256 "
                << sha->text().substr(0, 12) << "... -> " << now.substr(0, 12) << "...)\n";
  }
}

// After training: LibTorch's version is known once the runner has run.
void warn_about_runtime(track::RunStore& store, const std::string& original, const std::string& reproduction) {
  for (const track::ValueChange& change :
       track::diff_runs(store, *store.find_run(original), *store.find_run(reproduction)).environment)
    if (change.key == "runtime.libtorch")
      std::cerr << "kiln: warning: the run used LibTorch " << change.a.value_or("?") << ", the reproduction "
                << change.b.value_or("?") << "\n";
}

}  // namespace

int run_reproduce(const Args& raw) {
  if (!raw.empty() && (raw[0] == "-h" || raw[0] == "--help")) {
    std::cout << kReproduceUsage;
    return 0;
  }
  StoreArgs args(raw);
  double tolerance = 0;
  if (auto text = args.take_value("--tolerance")) {
    char* end = nullptr;
    tolerance = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || !(tolerance >= 0))
      throw UsageError("--tolerance takes a number >= 0, found '" + *text + "'");
  }
  args.expect_positionals(1, 1, "kiln reproduce RUN [--tolerance T]");
  std::string original_id;
  CompleteJob job;
  {
    track::RunStore store = args.open_store();
    track::RunRecord original = resolve_or_throw(store, args.positionals[0]);
    original_id = original.id;
    if (original.status == track::RunStatus::kRunning)
      throw UsageError("run " + original.id + " is still RUNNING; reproduce it once it has ended");
    track::JsonValue manifest = track::parse_json(store.manifest(original.id));
    job.composed = load_run_file(original.dir / ".kiln" / "config.yaml");
    job.resolved = load_run_file(original.dir / ".kiln" / "resolved.yaml");
    job.overrides = recorded_overrides(manifest);
    warn_about_environment(manifest);
  }
  // The reproduction lands next to the original, in the same store, from
  // whatever directory this is run; it starts fresh rather than resuming.
  fs::path store_path = fs::absolute(args.store_path()).lexically_normal();
  config::Node* run = job.resolved.find("run");
  if (!run || !run->is_map()) run = &job.resolved.set("run", config::Node::map());
  run->set("root", config::Node::string(store_path.parent_path().string()));
  run->set("store", config::Node::string(store_path.string()));
  run->set("record", config::Node::boolean(true));
  if (config::Node* trainer = job.resolved.find("trainer"); trainer && trainer->find("resume"))
    trainer->set("resume", config::Node::null());
  // Its own name, so that RUN keeps naming the original.
  if (const config::Node* name = run->find("name"); name && name->is_scalar() && !name->is_null())
    run->set("name", config::Node::string(name->scalar_text() + "-reproduction"));
  job.tags = {{"reproduction_of", original_id}};
  std::cerr << "kiln: reproducing run " << original_id << "\n";
  TrainedRun reproduction = train_complete_job(job);

  track::RunStore store = args.open_store();
  warn_about_runtime(store, original_id, reproduction.run_id);
  ReproductionReport report = compare_reproduction(store, original_id, reproduction.run_id, tolerance);
  std::cout << format_reproduction_report(report);
  return report.passed ? 0 : 1;
}

}  // namespace kiln::cli
