// TensorBoard event files, written without TensorFlow or protobuf.
//
// `tensorboard --logdir runs/` shows kiln runs like any PyTorch run: each
// run's tb/ directory holds one events.out.tfevents.<time>.<host>.<pid>.<n>
// file of TFRecord-framed `Event` messages (tfrecord.h): first the
// file_version "brain.Event:2" event, then one event per logged metric with
// a scalar summary. Scalars are written as float `simple_value`: TensorBoard's
// loader turns those into its scalar plots, while double-precision tensors
// are silently dropped by its fast data path. Text (the resolved config) is
// a string tensor with the "text" plugin's metadata. Histograms (weights,
// every N steps: the weight_histograms callback) are HistogramProto
// messages, which the Histograms and Distributions tabs draw.
//
// The messages are encoded by hand in protobuf's wire format (field numbers
// from tensorflow/core/util/event.proto and framework/summary.proto);
// decode_event reads them back for tests and tools.
//
// Thread safety: a TensorBoardLogger is used by one thread (the trainer's).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/track/logger.h"

namespace kiln::track {

// HistogramProto: bucket i counts the values from bucket_limit[i-1] (the
// first from min) up to bucket_limit[i]; the last bucket includes max.
struct Histogram {
  double min = 0;
  double max = 0;
  double num = 0;
  double sum = 0;
  double sum_squares = 0;
  std::vector<double> bucket_limit;
  std::vector<double> bucket;
};

// `bins` equal-width buckets from the smallest finite value to the largest
// (non-finite values are left out of every field, as TensorBoard cannot
// place them). No values give an empty histogram (num 0, no buckets).
Histogram make_histogram(const std::vector<float>& values, int bins = 30);

// One Summary.Value as read back.
struct EventValue {
  std::string tag;
  std::optional<float> simple_value;
  std::optional<Histogram> histogram;      // Value.histo
  std::string plugin_name;                 // SummaryMetadata.plugin_data.plugin_name ("text")
  std::vector<std::string> string_values;  // TensorProto.string_val
};

struct Event {
  double wall_time = 0;
  std::int64_t step = 0;
  std::string file_version;  // only in the first event of a file
  std::vector<EventValue> values;
};

// Wire-format encoders and the decoder (throws kiln::IoError on malformed
// input, naming what was wrong).
std::string encode_file_version_event(double wall_time, std::string_view version = "brain.Event:2");
std::string encode_scalar_event(double wall_time, std::int64_t step, std::string_view tag, float value);
std::string encode_text_event(double wall_time, std::int64_t step, std::string_view tag, std::string_view text);
std::string encode_histogram_event(double wall_time, std::int64_t step, std::string_view tag,
                                   const Histogram& histogram);
Event decode_event(std::string_view bytes);

// Every event of an event file, CRCs checked (read_tfrecords).
std::vector<Event> read_event_file(const std::filesystem::path& path);

class TensorBoardLogger final : public Logger {
 public:
  // Creates `dir` and a new event file in it. Throws kiln::IoError.
  explicit TensorBoardLogger(const std::filesystem::path& dir);
  ~TensorBoardLogger() override;
  TensorBoardLogger(const TensorBoardLogger&) = delete;
  TensorBoardLogger& operator=(const TensorBoardLogger&) = delete;

  // One scalar event per metric; non-finite values are written as they are
  // (TensorBoard plots NaN and inf). Flushed, so a crash loses nothing
  // written before it.
  void log_metrics(const Metrics& metrics, std::int64_t step) override;
  // A text summary (markdown in TensorBoard's Text tab).
  void add_text(const std::string& tag, const std::string& text, std::int64_t step = 0);
  // A histogram of `values` (make_histogram's 30 buckets).
  void log_histogram(const std::string& tag, const std::vector<float>& values, std::int64_t step) override;
  void finalize(const std::string& status) override;

  const std::filesystem::path& file() const { return path_; }

 private:
  void append(const std::string& event);

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

}  // namespace kiln::track
