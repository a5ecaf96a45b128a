// Every `kiln train` run lands in the run store (run_store.h): the run row
// with its params and manifest when it starts, metrics while it trains (the
// recorder is one of the trainer's loggers), the outcome and the artifact
// list when it ends.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/track/run_recorder.h"
#include "run_manifest.h"

namespace kiln::cli {

// `run.store` of a resolved config, else <run.root>/kiln.db.
std::filesystem::path run_store_path(const config::Node& resolved);

// Records the run as RUNNING in the store; nullptr when the config turns
// recording off (run.record=false). `tags` are set on the run (a
// reproduction is tagged with what it reproduces). Only the process that
// owns the run records it (rank 0 in distributed runs). Throws IoError when
// the store cannot be opened.
std::unique_ptr<track::RunRecorder> start_recording(const config::Node& resolved, const RunStart& start,
                                                    const RunManifest& manifest,
                                                    const std::map<std::string, std::string>& tags);

// Every file under run_dir with its size and SHA-256, paths relative to it.
std::vector<track::Artifact> list_artifacts(const std::filesystem::path& run_dir);

}  // namespace kiln::cli
