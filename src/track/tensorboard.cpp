#include "kiln/track/tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/tfrecord.h"

namespace kiln::track {
namespace {

// --- protobuf wire format: just what Event and Summary need ---

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_key(std::string& out, std::uint32_t field, WireType type) { put_varint(out, (field << 3) | type); }

void put_fixed(std::string& out, std::uint64_t bits, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

std::string event_header(double wall_time, std::int64_t step) {
  std::string event;
  put_key(event, 1, kFixed64);  // Event.wall_time
  put_fixed(event, std::bit_cast<std::uint64_t>(wall_time), 8);
  if (step != 0) {
    put_key(event, 2, kVarint);  // Event.step
    put_varint(event, static_cast<std::uint64_t>(step));
  }
  return event;
}

std::string with_summary(double wall_time, std::int64_t step, const std::string& value) {
  std::string summary;
  put_bytes(summary, 1, value);  // Summary.value
  std::string event = event_header(wall_time, step);
  put_bytes(event, 5, summary);  // Event.summary
  return event;
}

void put_double(std::string& out, std::uint32_t field, double value) {
  put_key(out, field, kFixed64);
  put_fixed(out, std::bit_cast<std::uint64_t>(value), 8);
}

// A packed repeated double: one length-delimited field of 8-byte values.
void put_packed_doubles(std::string& out, std::uint32_t field, const std::vector<double>& values) {
  std::string packed;
  for (double v : values) put_fixed(packed, std::bit_cast<std::uint64_t>(v), 8);
  put_bytes(out, field, packed);
}

// Reads fields of one message; `bytes` outlives the reader.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }

  std::pair<std::uint32_t, WireType> key() {
    std::uint64_t k = varint();
    return {static_cast<std::uint32_t>(k >> 3), static_cast<WireType>(k & 7)};
  }
  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= bytes_.size()) fail("truncated varint");
      auto byte = static_cast<unsigned char>(bytes_[at_++]);
      value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return value;
    }
    fail("varint longer than 10 bytes");
  }
  std::uint64_t fixed(int size) {
    if (bytes_.size() - at_ < static_cast<std::size_t>(size)) fail("truncated fixed-width field");
    std::uint64_t value = 0;
    for (int i = 0; i < size; ++i)
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[at_ + i])) << (8 * i);
    at_ += static_cast<std::size_t>(size);
    return value;
  }
  std::string_view bytes() {
    std::uint64_t size = varint();
    if (bytes_.size() - at_ < size) fail("truncated length-delimited field");
    std::string_view out = bytes_.substr(at_, size);
    at_ += size;
    return out;
  }
  void skip(WireType type) {
    switch (type) {
      case kVarint: varint(); return;
      case kFixed64: fixed(8); return;
      case kFixed32: fixed(4); return;
      case kLengthDelimited: bytes(); return;
    }
    fail("unknown wire type " + std::to_string(type));
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw IoError("malformed event: " + what + " at byte " + std::to_string(at_));
  }
  std::string_view bytes_;
  std::size_t at_ = 0;
};

double as_double(std::uint64_t bits) { return std::bit_cast<double>(bits); }

Histogram decode_histogram(std::string_view bytes) {
  Histogram h;
  WireReader r(bytes);
  auto read_doubles = [&](WireType type, std::vector<double>& out) {
    if (type == kFixed64) {  // an unpacked element
      out.push_back(as_double(r.fixed(8)));
      return;
    }
    WireReader packed(r.bytes());
    while (!packed.done()) out.push_back(as_double(packed.fixed(8)));
  };
  while (!r.done()) {
    auto [field, type] = r.key();
    if (field >= 1 && field <= 5 && type == kFixed64) {
      double value = as_double(r.fixed(8));
      double* fields[] = {&h.min, &h.max, &h.num, &h.sum, &h.sum_squares};
      *fields[field - 1] = value;
    } else if (field == 6 && (type == kLengthDelimited || type == kFixed64)) {
      read_doubles(type, h.bucket_limit);
    } else if (field == 7 && (type == kLengthDelimited || type == kFixed64)) {
      read_doubles(type, h.bucket);
    } else {
      r.skip(type);
    }
  }
  return h;
}

EventValue decode_value(std::string_view bytes) {
  EventValue value;
  WireReader r(bytes);
  while (!r.done()) {
    auto [field, type] = r.key();
    if (field == 1 && type == kLengthDelimited) {
      value.tag = std::string(r.bytes());
    } else if (field == 2 && type == kFixed32) {
      value.simple_value = std::bit_cast<float>(static_cast<std::uint32_t>(r.fixed(4)));
    } else if (field == 5 && type == kLengthDelimited) {  // HistogramProto
      value.histogram = decode_histogram(r.bytes());
    } else if (field == 9 && type == kLengthDelimited) {  // SummaryMetadata
      WireReader meta(r.bytes());
      while (!meta.done()) {
        auto [mf, mt] = meta.key();
        if (mf != 1 || mt != kLengthDelimited) {
          meta.skip(mt);
          continue;
        }
        WireReader plugin(meta.bytes());  // PluginData
        while (!plugin.done()) {
          auto [pf, pt] = plugin.key();
          if (pf == 1 && pt == kLengthDelimited) {
            value.plugin_name = std::string(plugin.bytes());
          } else {
            plugin.skip(pt);
          }
        }
      }
    } else if (field == 8 && type == kLengthDelimited) {  // TensorProto
      WireReader tensor(r.bytes());
      while (!tensor.done()) {
        auto [tf, tt] = tensor.key();
        if (tf == 8 && tt == kLengthDelimited) {
          value.string_values.emplace_back(tensor.bytes());
        } else {
          tensor.skip(tt);
        }
      }
    } else {
      r.skip(type);
    }
  }
  return value;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string encode_file_version_event(double wall_time, std::string_view version) {
  std::string event = event_header(wall_time, 0);
  put_bytes(event, 3, version);  // Event.file_version
  return event;
}

std::string encode_scalar_event(double wall_time, std::int64_t step, std::string_view tag, float value) {
  std::string v;
  put_bytes(v, 1, tag);     // Value.tag
  put_key(v, 2, kFixed32);  // Value.simple_value
  put_fixed(v, std::bit_cast<std::uint32_t>(value), 4);
  return with_summary(wall_time, step, v);
}

std::string encode_text_event(double wall_time, std::int64_t step, std::string_view tag, std::string_view text) {
  std::string plugin;
  put_bytes(plugin, 1, "text");  // PluginData.plugin_name
  std::string metadata;
  put_bytes(metadata, 1, plugin);  // SummaryMetadata.plugin_data
  std::string tensor;
  put_key(tensor, 1, kVarint);  // TensorProto.dtype
  put_varint(tensor, 7);        // DT_STRING
  put_bytes(tensor, 2, "");     // TensorProto.tensor_shape: a scalar
  put_bytes(tensor, 8, text);   // TensorProto.string_val
  std::string v;
  put_bytes(v, 1, tag);
  put_bytes(v, 9, metadata);  // Value.metadata
  put_bytes(v, 8, tensor);    // Value.tensor
  return with_summary(wall_time, step, v);
}

Histogram make_histogram(const std::vector<float>& values, int bins) {
  Histogram h;
  std::vector<double> finite;
  finite.reserve(values.size());
  for (float v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.empty() || bins < 1) return h;
  auto [lo, hi] = std::minmax_element(finite.begin(), finite.end());
  h.min = *lo;
  h.max = *hi;
  h.num = static_cast<double>(finite.size());
  for (double v : finite) {
    h.sum += v;
    h.sum_squares += v * v;
  }
  // All values equal: one bucket, as TensorBoard cannot draw a zero width.
  int count = h.max > h.min ? bins : 1;
  double width = (h.max - h.min) / count;
  h.bucket.assign(static_cast<std::size_t>(count), 0.0);
  for (int i = 0; i < count; ++i) h.bucket_limit.push_back(i + 1 == count ? h.max : h.min + width * (i + 1));
  for (double v : finite) {
    auto bucket = width > 0 ? static_cast<std::size_t>((v - h.min) / width) : 0;
    h.bucket[std::min(bucket, h.bucket.size() - 1)] += 1;
  }
  return h;
}

std::string encode_histogram_event(double wall_time, std::int64_t step, std::string_view tag,
                                   const Histogram& histogram) {
  std::string histo;
  put_double(histo, 1, histogram.min);  // HistogramProto.min ... sum_squares
  put_double(histo, 2, histogram.max);
  put_double(histo, 3, histogram.num);
  put_double(histo, 4, histogram.sum);
  put_double(histo, 5, histogram.sum_squares);
  put_packed_doubles(histo, 6, histogram.bucket_limit);
  put_packed_doubles(histo, 7, histogram.bucket);
  std::string v;
  put_bytes(v, 1, tag);
  put_bytes(v, 5, histo);  // Value.histo
  return with_summary(wall_time, step, v);
}

Event decode_event(std::string_view bytes) {
  Event event;
  WireReader r(bytes);
  while (!r.done()) {
    auto [field, type] = r.key();
    if (field == 1 && type == kFixed64) {
      event.wall_time = std::bit_cast<double>(r.fixed(8));
    } else if (field == 2 && type == kVarint) {
      event.step = static_cast<std::int64_t>(r.varint());
    } else if (field == 3 && type == kLengthDelimited) {
      event.file_version = std::string(r.bytes());
    } else if (field == 5 && type == kLengthDelimited) {
      WireReader summary(r.bytes());
      while (!summary.done()) {
        auto [sf, st] = summary.key();
        if (sf == 1 && st == kLengthDelimited) {
          event.values.push_back(decode_value(summary.bytes()));
        } else {
          summary.skip(st);
        }
      }
    } else {
      r.skip(type);
    }
  }
  return event;
}

std::vector<Event> read_event_file(const std::filesystem::path& path) {
  std::vector<Event> events;
  for (const std::string& record : read_tfrecords(Env::Default().read_file(path), path.string()))
    events.push_back(decode_event(record));
  return events;
}

TensorBoardLogger::TensorBoardLogger(const std::filesystem::path& dir) {
  Env::Default().create_dirs(dir);
  // TensorBoard's name: events.out.tfevents.<seconds>.<host>.<pid>.<n>;
  // <n> keeps two loggers of one process in one second apart.
  static std::atomic<int> counter{0};
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  path_ = dir / ("events.out.tfevents." + std::to_string(static_cast<long long>(now_seconds())) + "." + host + "." +
                 std::to_string(::getpid()) + "." + std::to_string(counter++));
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) throw IoError("cannot create TensorBoard event file '" + path_.string() + "': " + std::strerror(errno));
  append(encode_file_version_event(now_seconds()));
}

TensorBoardLogger::~TensorBoardLogger() {
  if (file_) std::fclose(file_);
}

void TensorBoardLogger::append(const std::string& event) {
  std::string record = frame_tfrecord(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0)
    throw IoError("cannot write TensorBoard event file '" + path_.string() + "': " + std::strerror(errno));
}

void TensorBoardLogger::log_metrics(const Metrics& metrics, std::int64_t step) {
  double now = now_seconds();
  for (const auto& [name, value] : metrics) append(encode_scalar_event(now, step, name, static_cast<float>(value)));
}

void TensorBoardLogger::add_text(const std::string& tag, const std::string& text, std::int64_t step) {
  append(encode_text_event(now_seconds(), step, tag, text));
}

void TensorBoardLogger::log_histogram(const std::string& tag, const std::vector<float>& values, std::int64_t step) {
  append(encode_histogram_event(now_seconds(), step, tag, make_histogram(values)));
}

void TensorBoardLogger::finalize(const std::string& status) { std::fflush(file_); }

}  // namespace kiln::track
