// RunRecorder: how a training run lands in the run store.
//
// It is a Logger (logger.h), so the trainer hands it metrics like any other;
// log_metrics only appends to a buffer under a mutex, and a background
// thread with its own store connection writes the buffer in one transaction
// every flush_interval, updates the run's heartbeat and samples system
// metrics (system_metrics.h). The training thread never waits for SQLite,
// and a crash loses at most the last flush_interval of points.
//
// A store that cannot be written (disk full, locked past the busy timeout)
// does not stop training: the recorder prints one warning to stderr, keeps
// the points and tries again at the next flush.
//
// Thread safety: log_metrics from the training thread; end() and flush()
// from any thread (the signal watcher ends a killed run), once the run is
// ended further calls do nothing.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kiln/track/logger.h"
#include "kiln/track/run_store.h"
#include "kiln/track/system_metrics.h"

namespace kiln::track {

struct RunRecorderOptions {
  RunStoreOptions store;
  // How often buffered points are written and the heartbeat renewed.
  double flush_interval_seconds = 1.0;
  // How often CPU, memory and GPU use are sampled; 0 turns sampling off.
  double system_metrics_interval_seconds = 5.0;
};

class RunRecorder final : public Logger {
 public:
  // Opens the store, records `run` as RUNNING and starts the writer thread.
  // Throws kiln::IoError when the store cannot be opened or written.
  RunRecorder(const RunRecorderOptions& options, const NewRun& run);
  // Writes what is buffered; a run not ended stays RUNNING (its heartbeat
  // stops, so the next open of the store marks it).
  ~RunRecorder() override;
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  void log_metrics(const Metrics& metrics, std::int64_t step) override;

  // Writes the buffered points now (waits for the writer thread).
  void flush();
  // Flushes, stops the writer and records the outcome. Idempotent.
  void end(RunStatus status, const std::string& error, const std::string& manifest_json,
           const std::vector<Artifact>& artifacts = {});

  const std::string& run_id() const { return run_id_; }
  const std::filesystem::path& store_path() const { return options_.store.path; }

 private:
  void writer_loop();
  // Writes `pending_` (and samples when due); called on the writer thread,
  // or on the ending thread once the writer has stopped.
  void write_pending(RunStore& store, bool sample_system);

  RunRecorderOptions options_;
  std::string run_id_;
  std::unique_ptr<RunStore> store_;  // used by the writer thread, then by end()
  SystemSampler sampler_;
  double next_sample_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<MetricRow> buffer_;   // filled by log_metrics
  std::vector<MetricRow> pending_;  // being written (writer thread only)
  bool flush_requested_ = false;
  std::uint64_t flushes_done_ = 0;
  bool stopping_ = false;
  bool ended_ = false;
  bool warned_ = false;
  std::mutex end_mutex_;
  std::thread writer_;
};

}  // namespace kiln::track
