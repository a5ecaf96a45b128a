// Where metrics go: the logger interface, torch-free.
//
// The trainer reduces logged values to doubles and hands them to every
// Logger at a step. The JSON-lines logger here writes metrics.jsonl in the
// run directory; the run store and TensorBoard writers plug in the same way.
//
// Thread safety: a Logger is called from the training thread only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace kiln {

// Metric name ("train/loss", "val/acc") -> value, sorted by name.
using Metrics = std::map<std::string, double>;

class Logger {
 public:
  virtual ~Logger() = default;
  // Metrics reached at optimizer step `step`.
  virtual void log_metrics(const Metrics& metrics, std::int64_t step) = 0;
  // The distribution of a tensor's values at `step` (a layer's weights).
  // Only loggers that can show one (TensorBoard) override it.
  virtual void log_histogram(const std::string& tag, const std::vector<float>& values, std::int64_t step) {}
  // The run ended: "FINISHED", "FAILED" or "KILLED".
  virtual void finalize(const std::string& status) {}
};

// One JSON object per log_metrics call: {"step": 12, "time": 1700000000.123,
// "train/loss": 0.41}. Each line is flushed, so a crash loses nothing written
// before it. Non-finite values are written as the strings "nan", "inf", "-inf".
class JsonlLogger final : public Logger {
 public:
  // Appends to `path` (created when absent). Throws IoError.
  explicit JsonlLogger(const std::string& path);
  ~JsonlLogger() override;
  JsonlLogger(const JsonlLogger&) = delete;
  JsonlLogger& operator=(const JsonlLogger&) = delete;

  void log_metrics(const Metrics& metrics, std::int64_t step) override;

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace kiln
