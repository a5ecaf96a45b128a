// Names a collective that failed or timed out, and which ranks reached it.
//
// Gloo reports a stuck collective as an anonymous socket timeout. Every
// kiln collective is waited for through a CollectiveWatch instead: the
// ranks call the same collectives in the same order, so a local counter
// numbers them alike on every rank without any communication in the
// training loop. Only when a wait fails does the rank write what it was
// waiting for into the job's TCPStore (kiln/stuck/<rank>), give the other
// ranks a moment to do the same, and throw kiln::Error saying which
// collective, after how long, which ranks reached it and what the others
// were doing (another collective, or nothing: the process is gone or busy):
//
//   [rank 0] all-reduce of gradient bucket 2 (collective #57) failed after 5 s:
//   rank 1 did not reach it (ranks that did: 0; rank 1: no report, its process
//   may have died or be stuck outside a collective)
//
// Thread safety: one watch per process group, used from the training thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

namespace kiln::dist {

class CollectiveWatch {
 public:
  // `store` may be null (then failures name this rank and the collective only).
  CollectiveWatch(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size, std::chrono::milliseconds timeout);

  // Waits for `work`, the collective `what` ("all-reduce of gradient bucket
  // 2"); throws kiln::Error as above when it fails or times out.
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what);
  // Collectives waited for so far.
  std::int64_t count() const { return count_; }

 private:
  [[noreturn]] void explain(const std::string& what, const std::string& reason, double seconds);

  c10::intrusive_ptr<c10d::Store> store_;
  int rank_;
  int world_size_;
  std::chrono::milliseconds timeout_;
  std::int64_t count_ = 0;
};

}  // namespace kiln::dist
