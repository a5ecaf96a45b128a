#include <cerrno>
#include <chrono>
#include <cstring>

#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/track/logger.h"

namespace kiln {
namespace {

// Shortest text that reads back as the same double; nan/inf as strings.
std::string json_number(double v) { return track::to_json(track::JsonValue::number(v)); }

}  // namespace

JsonlLogger::JsonlLogger(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "a")) {
  if (!file_) throw IoError("cannot open metrics file '" + path + "': " + std::strerror(errno));
}

JsonlLogger::~JsonlLogger() {
  if (file_) std::fclose(file_);
}

void JsonlLogger::log_metrics(const Metrics& metrics, std::int64_t step) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string line = "{\"step\": " + std::to_string(step) + ", \"time\": " + json_number(now);
  for (const auto& [name, value] : metrics) line += ", " + track::json_quote(name) + ": " + json_number(value);
  line += "}\n";
  if (std::fputs(line.c_str(), file_) == EOF || std::fflush(file_) != 0)
    throw IoError("cannot write metrics file '" + path_ + "': " + std::strerror(errno));
}

}  // namespace kiln
