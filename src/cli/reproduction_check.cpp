#include "reproduction_check.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "kiln/error.h"
#include "kiln/track/env.h"
#include "kiln/track/json.h"
#include "text_table.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;

// Two values are equal within `tolerance`; NaN equals NaN (a run that
// diverged to NaN reproduces when its reproduction does the same).
bool same(double a, double b, double tolerance) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;  // equal infinities too
  return std::fabs(a - b) <= tolerance;
}

std::string number_text(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The first divergence of one series, and its step (for ordering).
std::optional<std::pair<std::int64_t, Divergence>> series_divergence(const std::string& key,
                                                                     const std::vector<track::MetricPoint>& a,
                                                                     const std::vector<track::MetricPoint>& b,
                                                                     double tolerance, std::int64_t& compared) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    ++compared;
    if (a[i].step != b[i].step)
      return std::pair{std::min(a[i].step, b[i].step),
                       Divergence{key + " point #" + std::to_string(i), "at step " + std::to_string(a[i].step),
                                  "at step " + std::to_string(b[i].step)}};
    if (!same(a[i].value, b[i].value, tolerance))
      return std::pair{a[i].step, Divergence{key + " at step " + std::to_string(a[i].step), number_text(a[i].value),
                                             number_text(b[i].value)}};
  }
  if (a.size() != b.size()) {
    std::int64_t step = n < a.size() ? a[n].step : b[n].step;
    return std::pair{step, Divergence{key + " from step " + std::to_string(step), std::to_string(a.size()) + " points",
                                      std::to_string(b.size()) + " points"}};
  }
  return std::nullopt;
}

// The divergence at the earliest step over all metrics: where the two runs
// first parted, not the first metric name in alphabetical order.
void compare_metrics(track::RunStore& store, ReproductionReport& report) {
  std::set<std::string> keys;
  for (const auto& m : store.metric_summaries(report.original_id)) keys.insert(m.key);
  for (const auto& m : store.metric_summaries(report.reproduction_id)) keys.insert(m.key);
  std::optional<std::pair<std::int64_t, Divergence>> first;
  for (const std::string& key : keys) {
    ++report.metrics_compared;
    auto divergence =
        series_divergence(key, store.metric_series(report.original_id, key),
                          store.metric_series(report.reproduction_id, key), report.tolerance, report.points_compared);
    if (divergence && (!first || divergence->first < first->first)) first = std::move(divergence);
  }
  if (first) report.first_divergence = std::move(first->second);
}

// The .safetensors files of a run's last checkpoint (checkpoints/last
// names its directory; docs/formats.md).
std::map<std::string, fs::path> final_weight_files(const fs::path& run_dir) {
  Env& env = Env::Default();
  std::map<std::string, fs::path> out;
  fs::path last = run_dir / "checkpoints" / "last";
  if (!env.exists(last)) return out;
  std::string name = env.read_file(last, 4096);
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  fs::path dir = run_dir / "checkpoints" / name;
  if (!env.is_directory(dir)) return out;
  for (const std::string& file : env.list_dir(dir))
    if (file.ends_with(".safetensors")) out[file] = dir / file;
  return out;
}

struct Tensor {
  std::string dtype;
  std::string shape;
  std::string_view bytes;
};

// name -> tensor, viewing into `file` (safetensors: u64 LE header size, JSON
// header, raw little-endian data).
std::map<std::string, Tensor> read_safetensors(const std::string& file, const fs::path& path) {
  auto corrupt = [&](const std::string& why) {
    return IoError("'" + path.string() + "' is not a safetensors file: " + why);
  };
  if (file.size() < 8) throw corrupt("shorter than its 8-byte header size");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size = header_size << 8 | static_cast<unsigned char>(file[static_cast<std::size_t>(i)]);
  if (header_size > file.size() - 8) throw corrupt("header size past the end of the file");
  track::JsonValue header = track::parse_json(std::string_view(file).substr(8, header_size));
  std::string_view data = std::string_view(file).substr(8 + header_size);
  std::map<std::string, Tensor> out;
  for (const auto& [name, entry] : header.members()) {
    if (name == "__metadata__") continue;
    const track::JsonValue* offsets = entry.find("data_offsets");
    const track::JsonValue* dtype = entry.find("dtype");
    const track::JsonValue* shape = entry.find("shape");
    if (!offsets || !dtype || !shape || offsets->items().size() != 2) throw corrupt("tensor '" + name + "' incomplete");
    std::uint64_t begin = offsets->items()[0].as_uint64().value_or(UINT64_MAX);
    std::uint64_t end = offsets->items()[1].as_uint64().value_or(UINT64_MAX);
    if (begin > end || end > data.size()) throw corrupt("tensor '" + name + "' outside the data");
    out[name] = Tensor{dtype->text(), track::to_json(*shape), data.substr(begin, end - begin)};
  }
  return out;
}

// The first element that differs by more than the tolerance; F32 and F64
// are compared as numbers, other dtypes byte for byte.
std::optional<std::string> first_element_difference(const Tensor& a, const Tensor& b, double tolerance, std::string& va,
                                                    std::string& vb) {
  std::size_t width = a.dtype == "F32" ? 4 : a.dtype == "F64" ? 8 : 0;
  if (width == 0 || tolerance == 0) {
    if (a.bytes == b.bytes) return std::nullopt;
    std::size_t i = 0;
    while (i < a.bytes.size() && i < b.bytes.size() && a.bytes[i] == b.bytes[i]) ++i;
    std::size_t element = width ? i / width : i;
    va = width == 4 ? [&] { float f; std::memcpy(&f, a.bytes.data() + element * 4, 4); return number_text(f); }()
         : "byte " + std::to_string(i);
    vb = width == 4 ? [&] { float f; std::memcpy(&f, b.bytes.data() + element * 4, 4); return number_text(f); }()
         : "byte " + std::to_string(i);
    return "[" + std::to_string(element) + "]";
  }
  for (std::size_t i = 0; i * width < a.bytes.size(); ++i) {
    double x = 0, y = 0;
    if (width == 4) {
      float fx, fy;
      std::memcpy(&fx, a.bytes.data() + i * 4, 4);
      std::memcpy(&fy, b.bytes.data() + i * 4, 4);
      x = fx, y = fy;
    } else {
      std::memcpy(&x, a.bytes.data() + i * 8, 8);
      std::memcpy(&y, b.bytes.data() + i * 8, 8);
    }
    if (!same(x, y, tolerance)) {
      va = number_text(x), vb = number_text(y);
      return "[" + std::to_string(i) + "]";
    }
  }
  return std::nullopt;
}

void compare_weights(const fs::path& dir_a, const fs::path& dir_b, ReproductionReport& report) {
  std::map<std::string, fs::path> a = final_weight_files(dir_a), b = final_weight_files(dir_b);
  for (const auto& [file, path_a] : a) {
    auto it = b.find(file);
    if (it == b.end()) {
      report.first_divergence = Divergence{"final weights " + file, "present", "missing"};
      return;
    }
    ++report.weight_files_compared;
    std::string bytes_a = Env::Default().read_file(path_a), bytes_b = Env::Default().read_file(it->second);
    std::map<std::string, Tensor> ta = read_safetensors(bytes_a, path_a), tb = read_safetensors(bytes_b, it->second);
    for (const auto& [name, tensor] : ta) {
      auto other = tb.find(name);
      ++report.tensors_compared;
      if (other == tb.end() || other->second.dtype != tensor.dtype || other->second.shape != tensor.shape) {
        report.first_divergence =
            Divergence{file + ": tensor " + name, tensor.dtype + " " + tensor.shape,
                       other == tb.end() ? "missing" : other->second.dtype + " " + other->second.shape};
        return;
      }
      std::string va, vb;
      if (std::optional<std::string> at = first_element_difference(tensor, other->second, report.tolerance, va, vb)) {
        report.first_divergence = Divergence{file + ": tensor " + name + *at, va, vb};
        return;
      }
    }
  }
}

}  // namespace

ReproductionReport compare_reproduction(track::RunStore& store, const std::string& original_id,
                                        const std::string& reproduction_id, double tolerance) {
  ReproductionReport report;
  report.original_id = original_id;
  report.reproduction_id = reproduction_id;
  report.tolerance = tolerance;
  compare_metrics(store, report);
  if (!report.first_divergence)
    compare_weights(store.find_run(original_id)->dir, store.find_run(reproduction_id)->dir, report);
  report.passed = !report.first_divergence;
  return report;
}

std::string format_reproduction_report(const ReproductionReport& report) {
  std::string out = "original      " + report.original_id + "\nreproduction  " + report.reproduction_id + "\n";
  out += "compared      " + std::to_string(report.metrics_compared) + " metrics, " +
         std::to_string(report.points_compared) + " points, " + std::to_string(report.tensors_compared) +
         " tensors in " + std::to_string(report.weight_files_compared) + " weight files (tolerance " +
         format_number(report.tolerance) + ")\n";
  if (report.passed) return out + "PASS\n";
  const Divergence& d = *report.first_divergence;
  return out + "FAIL: first divergence: " + d.what + ": original " + d.original + ", reproduction " + d.reproduction +
         "\n";
}

}  // namespace kiln::cli
