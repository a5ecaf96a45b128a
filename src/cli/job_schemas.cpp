#include "job_schemas.h"

#include <optional>
#include <string>

#include "kiln/config/schema.h"
#include "kiln/train/trainer_options.h"

namespace kiln::cli {
namespace {
namespace cfg = kiln::config;

// Keys at the top of a job config. Open: model, optimizer, scheduler and
// data subtrees are checked by their `_target_` factories, not here.
struct JobConfig {
  std::string experiment = "default";
  std::int64_t seed = 42;
};

struct RunConfig {
  std::string name;
  std::string root = "runs";
  std::string store;
  bool record = true;
  double system_metrics_interval = 5.0;
  std::string upload_to;
};

cfg::Schema<JobConfig> job_schema() {
  cfg::Schema<JobConfig> s("job", cfg::SchemaOptions{.allow_unknown_keys = true, .doc = "Run-level settings"});
  s.field("experiment", &JobConfig::experiment).doc("experiment name the run is filed under");
  s.field("seed", &JobConfig::seed).doc("global random seed").range(0, 4294967295);
  return s;
}

cfg::Schema<RunConfig> run_schema() {
  cfg::Schema<RunConfig> s("run", cfg::SchemaOptions{.doc = "The run's name and where its directory goes"});
  s.field("name", &RunConfig::name).doc("human-readable run name (the id stays unique)");
  s.field("root", &RunConfig::root).doc("where run directories go: <root>/<experiment>/<date>_<time>_<id>");
  s.field("store", &RunConfig::store).doc("the run store (SQLite) every run is recorded in; empty = <root>/kiln.db");
  s.field("record", &RunConfig::record).doc("record the run in the run store (kiln runs, kiln ui, kiln reproduce)");
  s.field("system_metrics_interval", &RunConfig::system_metrics_interval)
      .doc("seconds between samples of CPU, memory and GPU use; 0 = off")
      .range(0, 3600);
  s.field("upload_to", &RunConfig::upload_to)
      .doc("s3://bucket/prefix: copy the finished run directory there (<prefix>/<experiment>/<run>); empty = no");
  return s;
}

}  // namespace

void register_builtin_job_schemas() {
  static const bool registered = [] {
    cfg::register_job_schema("", job_schema());
    cfg::register_job_schema("run", run_schema());
    cfg::register_job_schema("trainer", trainer_options_schema());
    return true;
  }();
  (void)registered;
}

}  // namespace kiln::cli
