#include "kiln/track/run_recorder.h"

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>

#include "kiln/error.h"

namespace kiln::track {

RunRecorder::RunRecorder(const RunRecorderOptions& options, const NewRun& run)
    : options_(options), run_id_(run.id), store_(std::make_unique<RunStore>(options.store)) {
  store_->begin_run(run);
  next_sample_ = unix_time_now();
  // The writer starts with every signal blocked: a SIGTERM meant for the
  // process must reach the thread that handles it (the CLI's kill watch),
  // not this one, whose default action would end the process unrecorded.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  writer_ = std::thread([this] { writer_loop(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

RunRecorder::~RunRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (!ended_) {
    try {
      std::lock_guard lock(mutex_);
      pending_.insert(pending_.end(), buffer_.begin(), buffer_.end());
      buffer_.clear();
    } catch (...) {
    }
    try {
      write_pending(*store_, false);
    } catch (const std::exception&) {
      // Nothing to report to at destruction; the points are lost, the store intact.
    }
  }
}

void RunRecorder::log_metrics(const Metrics& metrics, std::int64_t step) {
  double now = unix_time_now();
  std::lock_guard lock(mutex_);
  if (ended_) return;
  for (const auto& [key, value] : metrics) buffer_.push_back({key, {step, now, value}});
}

void RunRecorder::write_pending(RunStore& store, bool sample_system) {
  double now = unix_time_now();
  try {
    store.log_metrics(run_id_, pending_);
    pending_.clear();
    if (sample_system && options_.system_metrics_interval_seconds > 0 && now >= next_sample_) {
      store.log_system_metrics(run_id_, sampler_.sample(now));
      next_sample_ = now + options_.system_metrics_interval_seconds;
    }
    store.heartbeat(run_id_, now);
  } catch (const Error& e) {
    // Training goes on; the points stay in pending_ for the next flush.
    if (!warned_)
      std::fprintf(stderr, "kiln: warning: the run store is not being written (will retry): %s\n", e.what());
    warned_ = true;
    if (pending_.size() > 10'000'000) pending_.clear();  // bounded memory when the store never comes back
  }
}

void RunRecorder::writer_loop() {
  auto interval = std::chrono::duration<double>(options_.flush_interval_seconds);
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, interval, [&] { return stopping_ || flush_requested_; });
    bool stop = stopping_;
    bool requested = flush_requested_;
    flush_requested_ = false;
    pending_.insert(pending_.end(), buffer_.begin(), buffer_.end());
    buffer_.clear();
    lock.unlock();
    write_pending(*store_, true);
    lock.lock();
    if (requested) {
      ++flushes_done_;
      wake_.notify_all();
    }
    if (stop) return;
  }
}

void RunRecorder::flush() {
  std::unique_lock lock(mutex_);
  if (stopping_) return;
  std::uint64_t target = flushes_done_ + 1;
  flush_requested_ = true;
  wake_.notify_all();
  wake_.wait(lock, [&] { return flushes_done_ >= target || stopping_; });
}

void RunRecorder::end(RunStatus status, const std::string& error, const std::string& manifest_json,
                      const std::vector<Artifact>& artifacts) {
  std::lock_guard end_lock(end_mutex_);
  if (ended_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(mutex_);
    pending_.insert(pending_.end(), buffer_.begin(), buffer_.end());
    buffer_.clear();
    ended_ = true;
  }
  // The writer has stopped: this thread owns the connection now.
  write_pending(*store_, false);
  store_->set_artifacts(run_id_, artifacts);
  store_->end_run(run_id_, status, unix_time_now(), error, manifest_json);
}

}  // namespace kiln::track
