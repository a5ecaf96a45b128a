// Where a run's files go, and finding a run to resume.
//
//   runs/                                  run.root
//     fashion_mnist/                       experiment
//       2026-11-23_16-58-01_3fa9c01e/      one run (track::run_dir_name)
//         .kiln/config.yaml                the composed config, interpolations kept
//         .kiln/resolved.yaml              what the run used
//         .kiln/overrides.yaml             the command-line overrides
//         .kiln/manifest.json              provenance and outcome (run_manifest.h)
//         checkpoints/  metrics.jsonl  train.log
//     multirun/2026-11-23_17-00-00_9c1d2e3f/    one `kiln train -m`
//       multirun.yaml                      jobs, their runs and outcomes
//       0/ 1/ ...                          each job's run directory (as above)
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/config/compose.h"
#include "kiln/config/node.h"
#include "kiln/config/override.h"
#include "kiln/track/run_dir.h"

namespace kiln::cli {

// `run.root` of a resolved config ("runs" when absent).
std::filesystem::path runs_root(const config::Node& resolved);

// The root key `experiment` ("default" when absent). Throws ConfigError when
// it is not a safe directory name.
std::string experiment_name(const config::Node& resolved);

// Writes .kiln/config.yaml, .kiln/resolved.yaml and .kiln/overrides.yaml
// (atomically) in `run_dir`.
void write_run_config(const std::filesystem::path& run_dir, const config::ComposeResult& composed,
                      const config::Node& resolved, const std::vector<config::Override>& overrides);

// With trainer.resume set, the run directory to continue in: "last" is the
// run under `root` (any experiment, sweeps included) whose newest checkpoint
// is newest; a path may name a run directory, its checkpoints/ directory or
// one checkpoint in it. nullopt when trainer.resume is not set. Throws
// ConfigError (key trainer.resume) when there is nothing to resume.
std::optional<std::filesystem::path> run_dir_to_resume(const config::Node& resolved, const std::filesystem::path& root);

// The run directory `path` names: a run directory (it holds checkpoints/),
// its checkpoints/ directory (it holds `last`) or one checkpoint in it (it
// holds checkpoint.json); nullopt for anything else.
std::optional<std::filesystem::path> run_dir_of(const std::filesystem::path& path);

// What `kiln generate` and `kiln checkpoint` read from RUN_OR_CKPT.
struct RunCheckpoint {
  std::filesystem::path run_dir;
  std::filesystem::path checkpoint;  // the checkpoint named, or <run>/checkpoints (its `last`)
  config::Node resolved;             // .kiln/resolved.yaml
};

// Throws kiln::Error starting with `command` when `where` is not a run or
// checkpoint (run_dir_of), or its run has no .kiln/resolved.yaml.
RunCheckpoint locate_run_checkpoint(const std::filesystem::path& where, const std::string& command);

// The run id of an existing run directory: its manifest's, else the
// directory name read back (track::run_dir_name's inverse).
track::RunId run_id_of(const std::filesystem::path& run_dir);

}  // namespace kiln::cli
