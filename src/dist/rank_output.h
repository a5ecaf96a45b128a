// One worker's output stream as the launcher passes it on: split into
// lines, each written to the launcher's own stream as "[rank R] line" and,
// unprefixed, to the rank's log file; the last lines (of both streams of
// the rank, in one shared tail) are kept for the failure report. Private
// to kiln_dist_launch.
#pragma once

#include <cstdio>
#include <deque>
#include <string>
#include <string_view>

namespace kiln::dist {

class RankOutput {
 public:
  // `to` is stdout or stderr; `log` may be null (no log file).
  RankOutput(int rank, std::FILE* to, std::FILE* log, std::deque<std::string>& tail);
  void feed(std::string_view bytes);
  // The end of the stream: a last line without '\n' still comes through.
  void finish();
  static constexpr std::size_t kKeptLines = 20;

 private:
  void emit(std::string_view line);
  std::string prefix_;
  std::FILE* to_;
  std::FILE* log_;
  std::string partial_;
  std::deque<std::string>& tail_;
};

}  // namespace kiln::dist
