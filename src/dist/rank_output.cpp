#include "rank_output.h"

namespace kiln::dist {

RankOutput::RankOutput(int rank, std::FILE* to, std::FILE* log, std::deque<std::string>& tail)
    : prefix_("[rank " + std::to_string(rank) + "] "), to_(to), log_(log), tail_(tail) {}

void RankOutput::feed(std::string_view bytes) {
  std::size_t start = 0;
  for (std::size_t newline = bytes.find('\n'); newline != std::string_view::npos; newline = bytes.find('\n', start)) {
    partial_.append(bytes.substr(start, newline - start));
    emit(partial_);
    partial_.clear();
    start = newline + 1;
  }
  partial_.append(bytes.substr(start));
}

void RankOutput::finish() {
  if (!partial_.empty()) emit(partial_);
  partial_.clear();
}

void RankOutput::emit(std::string_view line) {
  // One fwrite per line: lines of different ranks never interleave.
  std::string out = prefix_;
  out.append(line);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), to_);
  std::fflush(to_);
  if (log_ != nullptr) {
    std::fwrite(line.data(), 1, line.size(), log_);
    std::fputc('\n', log_);
    std::fflush(log_);
  }
  tail_.emplace_back(line);
  if (tail_.size() > kKeptLines) tail_.pop_front();
}

}  // namespace kiln::dist
