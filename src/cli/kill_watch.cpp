#include "kill_watch.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace kiln::cli {

KillWatch::KillWatch(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  watcher_ = std::thread([this] {
    const timespec poll{0, 100'000'000};  // 100 ms: how soon the destructor is noticed
    while (!stop_.load()) {
      int signal_number = sigtimedwait(&signals_, nullptr, &poll);
      if (signal_number < 0) continue;  // EAGAIN (timeout) or EINTR
      on_signal_(signal_number);
      // Die of the signal, as without kiln: default action, unblocked here.
      std::signal(signal_number, SIG_DFL);
      sigset_t just_this;
      sigemptyset(&just_this);
      sigaddset(&just_this, signal_number);
      pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
      raise(signal_number);
    }
  });
}

KillWatch::~KillWatch() {
  stop_.store(true);
  watcher_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

}  // namespace kiln::cli
