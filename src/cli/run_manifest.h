// .kiln/manifest.json: what is needed to redo a run and to tell why two runs
// differ (docs/runs.md lists every field).
//
// Written when the run starts (status RUNNING) and rewritten atomically when
// it ends (FINISHED, FAILED with the error, or KILLED by SIGINT/SIGTERM), so
// a crash leaves the last complete version. A resumed run keeps its manifest and appends to
// `resumes`. A process killed outright stays RUNNING here; the run store
// (issue #4) marks such runs by their stopped heartbeat.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/config/override.h"
#include "kiln/runner_abi.h"
#include "kiln/track/json.h"
#include "kiln/track/run_id.h"

namespace kiln::cli {
struct BoundDataset;
}

namespace kiln::cli {

struct RunStart {
  track::RunId id;
  std::filesystem::path run_dir;
  std::string experiment;
  std::string config_name;
  const config::Node* resolved = nullptr;
  std::vector<config::Override> overrides;
  bool resumed = false;
  // Set for the jobs of a multirun.
  std::optional<std::filesystem::path> sweep_dir;
  std::size_t job_index = 0;
  // The catalog dataset data.dataset named, when it was bound (dataset_binding.h).
  const BoundDataset* dataset = nullptr;
};

class RunManifest {
 public:
  // Gathers the provenance (host, git, environment, versions) and writes
  // the manifest with status RUNNING. Throws kiln::IoError.
  explicit RunManifest(const RunStart& start);

  // The run ended well: its metrics, the data files it read with their
  // SHA-256, and the numeric runtime (runner's describe_runtime JSON).
  void finish(const JobSummary& summary, const std::string& runtime_json);
  // The run ended with an error (message as printed).
  void fail(const std::string& error, const std::string& runtime_json);
  // The run is being killed by `signal_number` (SIGINT, SIGTERM): status
  // KILLED. Safe to call from another thread than the other methods.
  void kill(int signal_number);

  const track::JsonValue& document() const { return doc_; }

 private:
  void set_end(const std::string& status, const std::string& runtime_json);
  void write();

  std::mutex mutex_;  // kill() comes from the signal-watching thread
  bool ended_ = false;
  std::filesystem::path path_;
  std::chrono::system_clock::time_point start_;
  track::JsonValue doc_;
  // SHA-256 of files the dataset binding verified: not hashed again.
  std::map<std::string, std::string> known_hashes_;
};

// A config node as JSON (maps keep their order; scalars their type).
track::JsonValue node_to_json(const config::Node& node);

// "2026-11-23T16:58:01.123Z" (UTC).
std::string iso8601_utc(std::chrono::system_clock::time_point when);

}  // namespace kiln::cli
