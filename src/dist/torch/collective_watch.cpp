#include "kiln/dist/collective_watch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "kiln/error.h"

namespace kiln::dist {
namespace {

std::string stuck_key(int rank) { return "kiln/stuck/" + std::to_string(rank); }

std::string text_of(const std::vector<std::uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

std::string seconds_text(double seconds) {
  char out[32];
  std::snprintf(out, sizeof out, "%.3g s", seconds);
  return out;
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string out;
  for (int r : ranks) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

}  // namespace

CollectiveWatch::CollectiveWatch(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                                 std::chrono::milliseconds timeout)
    : store_(std::move(store)), rank_(rank), world_size_(world_size), timeout_(timeout) {}

void CollectiveWatch::wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
  ++count_;
  const auto start = std::chrono::steady_clock::now();
  try {
    work->wait();
  } catch (const c10::Error& e) {
    explain(what, e.what_without_backtrace(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const std::exception& e) {
    explain(what, e.what(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

void CollectiveWatch::explain(const std::string& what, const std::string& reason, double seconds) {
  const std::string mine = std::to_string(count_) + " " + what;
  std::string message = "[rank " + std::to_string(rank_) + "] " + what + " (collective #" + std::to_string(count_) +
                        ") failed after " + seconds_text(seconds);
  if (!store_) throw Error(message + ": " + reason);
  std::vector<std::string> reports(static_cast<std::size_t>(world_size_));
  try {
    store_->set(stuck_key(rank_), std::vector<std::uint8_t>(mine.begin(), mine.end()));
    // The others stuck in the same collective fail at about the same time;
    // give them a moment (bounded) to say so.
    const auto deadline =
        std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(timeout_, std::chrono::seconds(3));
    for (;;) {
      bool all = true;
      for (int r = 0; r < world_size_; ++r)
        if (reports[static_cast<std::size_t>(r)].empty()) {
          if (store_->check({stuck_key(r)})) {
            reports[static_cast<std::size_t>(r)] = text_of(store_->get(stuck_key(r)));
          } else {
            all = false;
          }
        }
      if (all || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (const std::exception&) {
    // The store lives in rank 0's process: when it is gone, so is rank 0.
    throw Error(message + ": " + reason + " (the job's store at rank 0 is unreachable too: rank 0 is gone)");
  }
  std::vector<int> reached, missing;
  std::string elsewhere;
  for (int r = 0; r < world_size_; ++r) {
    const std::string& report = reports[static_cast<std::size_t>(r)];
    if (report == mine) {
      reached.push_back(r);
      continue;
    }
    missing.push_back(r);
    const std::size_t space = report.find(' ');
    elsewhere +=
        "; rank " + std::to_string(r) + ": " +
        (report.empty() ? std::string("no report, its process may have died or be stuck outside a collective")
                        : "waiting in " + report.substr(space + 1) + " (collective #" + report.substr(0, space) + ")");
  }
  if (missing.empty()) throw Error(message + ": every rank reached it, and it failed: " + reason);
  throw Error(message + ": rank" + (missing.size() == 1 ? " " : "s ") + rank_list(missing) +
              " did not reach it (ranks that did: " + rank_list(reached) + elsewhere + ")\n  reason: " + reason);
}

}  // namespace kiln::dist
