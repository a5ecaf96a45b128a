// Records a run as KILLED when SIGINT or SIGTERM ends it.
//
// While a KillWatch lives, SIGINT and SIGTERM are blocked in every thread
// created afterwards (LibTorch's pools, the data prefetcher, the train.log
// copier inherit the mask) and a watcher thread waits for them with
// sigtimedwait. On one it calls `on_signal` on that ordinary thread (so it may
// write files: the manifest's KILLED status), then restores the default
// action and raises the signal again, so the process still dies of it and
// the shell sees the usual status (130 for Ctrl-C).
//
// Construct it before starting any thread that must not take the signal.
#pragma once

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

namespace kiln::cli {

class KillWatch {
 public:
  explicit KillWatch(std::function<void(int signal_number)> on_signal);
  ~KillWatch();  // stops watching and unblocks the signals
  KillWatch(const KillWatch&) = delete;
  KillWatch& operator=(const KillWatch&) = delete;

 private:
  std::function<void(int)> on_signal_;
  sigset_t signals_;
  sigset_t previous_mask_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace kiln::cli
