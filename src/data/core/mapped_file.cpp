#include "kiln/data/mapped_file.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <utility>

namespace kiln::data {
namespace {

// The copy in progress on this thread, if any: the SIGBUS handler jumps back
// into copy() only for a fault inside the mapping that copy() is reading.
struct Guard {
  sigjmp_buf resume;
  const char* begin;
  const char* end;
};
thread_local Guard* t_guard = nullptr;

struct sigaction g_previous {};

void on_sigbus(int signo, siginfo_t* info, void* context) {
  Guard* guard = t_guard;
  const char* at = static_cast<const char*>(info->si_addr);
  if (guard != nullptr && at >= guard->begin && at < guard->end) siglongjmp(guard->resume, 1);
  // Not a guarded copy: behave as if this handler had never been installed.
  if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(signo, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signo);
    return;
  }
  // Default action: put it back and deliver again (SA_NODEFER leaves SIGBUS
  // unblocked here), so the process dies of SIGBUS with its usual core dump.
  sigaction(SIGBUS, &g_previous, nullptr);
  raise(signo);
}

void install_handler_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    sigemptyset(&action.sa_mask);
    // SA_NODEFER: siglongjmp leaves the handler without restoring the signal
    // mask (sigsetjmp(..., 0) saves none: that would be a system call per
    // copy), so SIGBUS must not be blocked while the handler runs.
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &action, &g_previous);
  });
}

}  // namespace

MappedFile MappedFile::map(int fd, std::uint64_t size) {
  MappedFile out;
  if (size == 0) return out;
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return out;
  install_handler_once();
  out.base_ = static_cast<const char*>(base);
  out.size_ = size;
  return out;
}

MappedFile::~MappedFile() {
  if (base_ != nullptr) ::munmap(const_cast<char*>(base_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(const_cast<char*>(base_), size_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool MappedFile::copy(std::uint64_t offset, std::size_t n, char* out) const {
  if (base_ == nullptr || offset > size_ || n > size_ - offset) return false;
  Guard guard;
  guard.begin = base_;
  guard.end = base_ + size_;
  if (sigsetjmp(guard.resume, 0) != 0) {
    t_guard = nullptr;
    return false;
  }
  t_guard = &guard;
  // The fences keep the compiler from moving the guard's stores across the
  // copy (it cannot know that the copy may end in the signal handler).
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(out, base_ + offset, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_guard = nullptr;
  return true;
}

}  // namespace kiln::data
