#include "kiln/train/model_checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "kiln/config/error.h"
#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {

config::ConfigError option_error(const std::string& key, const std::string& message) {
  return config::ConfigError(
      config::Diagnostic{"model_checkpoint." + key, config::Source::generated("callback options"), message, ""});
}

bool safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '=';
}

// One "{name:spec}" value as printf would write it; `spec` is what follows
// the ':' ("02d", ".4f"), empty for the default.
std::string format_value(const std::string& name, const std::string& spec, std::int64_t epoch, std::int64_t step,
                         const Metrics& metrics) {
  char buf[128];
  if (name == "epoch" || name == "step") {
    long long value = name == "epoch" ? epoch : step;
    std::string format = "%" + (spec.empty() ? std::string("d") : spec);
    if (format.back() != 'd') format += "d";  // an integer takes only integer specs
    format.insert(format.size() - 1, "ll");
    std::snprintf(buf, sizeof buf, format.c_str(), value);
    return buf;
  }
  auto it = metrics.find(name);
  double value = it == metrics.end() ? 0.0 : it->second;  // Lightning: a metric not logged yet is 0
  std::string format = "%" + (spec.empty() ? std::string("g") : spec);
  char type = format.back();
  if (type != 'f' && type != 'e' && type != 'g') format = "%g";
  std::snprintf(buf, sizeof buf, format.c_str(), value);
  return buf;
}

std::string hex_double(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", value);
  return buf;
}

}  // namespace

std::string format_checkpoint_name(const std::string& filename, bool auto_insert_metric_name, std::int64_t epoch,
                                   std::int64_t step, const Metrics& metrics) {
  std::string out;
  std::size_t i = 0;
  while (i < filename.size()) {
    std::size_t open = filename.find('{', i);
    std::size_t close = open == std::string::npos ? std::string::npos : filename.find('}', open);
    if (close == std::string::npos) {
      out += filename.substr(i);
      break;
    }
    out += filename.substr(i, open - i);
    std::string field = filename.substr(open + 1, close - open - 1);
    std::size_t colon = field.find(':');
    std::string name = field.substr(0, colon);
    std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    if (auto_insert_metric_name) out += name + "=";
    out += format_value(name, spec, epoch, step, metrics);
    i = close + 1;
  }
  for (char& c : out)
    if (!safe_char(c)) c = '_';
  if (out.empty() || out.front() == '.' || out.front() == '-') out.insert(out.begin(), '_');
  if (out == "last" || out == "latest") out += "_";
  if (out.size() > 128) out.resize(128);
  return out;
}

ModelCheckpoint::ModelCheckpoint(ModelCheckpointOptions options) : options_(std::move(options)) {
  if (options_.mode != "min" && options_.mode != "max")
    throw option_error("mode", "expected 'min' or 'max', found '" + options_.mode + "'");
  if (options_.save_top_k < -1)
    throw option_error("save_top_k",
                       "expected -1 (all), 0 (none) or a count, found " + std::to_string(options_.save_top_k));
  if (options_.every_n_train_steps < 0)
    throw option_error("every_n_train_steps", "expected >= 0, found " + std::to_string(options_.every_n_train_steps));
  if (options_.every_n_epochs && *options_.every_n_epochs < 0)
    throw option_error("every_n_epochs", "expected >= 0, found " + std::to_string(*options_.every_n_epochs));
  if (options_.monitor && options_.monitor->empty()) options_.monitor.reset();
  every_n_epochs_ = options_.every_n_epochs ? *options_.every_n_epochs : (options_.every_n_train_steps > 0 ? 0 : 1);
}

void ModelCheckpoint::on_fit_start(Trainer& trainer, Module&) { root_ = trainer.checkpoint_root().string(); }

void ModelCheckpoint::on_train_batch_end(Trainer& trainer, Module&) {
  const std::int64_t n = options_.every_n_train_steps;
  if (n > 0 && trainer.global_step() > 0 && trainer.global_step() % n == 0) save(trainer);
}

void ModelCheckpoint::on_validation_end(Trainer& trainer, Module&, const Metrics& metrics) {
  if (!options_.monitor || metrics.count(*options_.monitor) || trainer.callback_metrics().count(*options_.monitor))
    return;
  std::string logged;
  for (const auto& [name, value] : metrics) logged += (logged.empty() ? "" : ", ") + name;
  throw Error("ModelCheckpoint monitors '" + *options_.monitor +
              "', which validation did not log (it logged: " + logged + ")");
}

void ModelCheckpoint::on_train_epoch_end(Trainer& trainer, Module&) {
  if (every_n_epochs_ > 0 && (trainer.current_epoch() + 1) % every_n_epochs_ == 0) save(trainer);
}

void ModelCheckpoint::on_fit_end(Trainer& trainer, Module&) {
  if (options_.save_last && trainer.global_step() > 0) save(trainer);
}

bool ModelCheckpoint::better(double a, double b) const {
  return (options_.monitor && options_.mode == "min") ? a < b : a > b;
}

bool ModelCheckpoint::holds(const std::string& name) const {
  if (name == last_name_) return true;
  for (const auto& [kept, score] : best_k_)
    if (kept == name) return true;
  return false;
}

std::string ModelCheckpoint::unique_name(const std::string& name) const {
  if (!holds(name)) return name;
  for (int version = 1;; ++version) {
    std::string candidate = name + "-v" + std::to_string(version);
    if (!holds(candidate)) return candidate;
  }
}

void ModelCheckpoint::save(Trainer& trainer) {
  if (!trainer.can_checkpoint() || trainer.global_step() == last_step_) return;
  std::optional<double> score;
  if (!options_.monitor) {
    score = static_cast<double>(trainer.global_step());
  } else if (auto it = trainer.callback_metrics().find(*options_.monitor);
             it != trainer.callback_metrics().end() && !std::isnan(it->second)) {
    score = it->second;
  }
  // The kept checkpoint a new one would replace: the first saved of the worst.
  std::size_t worst = 0;
  for (std::size_t i = 1; i < best_k_.size(); ++i)
    if (better(best_k_[worst].second, best_k_[i].second)) worst = i;
  const std::int64_t k = options_.save_top_k;
  const bool top_k = k != 0 && score &&
                     (k < 0 || static_cast<std::int64_t>(best_k_.size()) < k || better(*score, best_k_[worst].second));
  if (!top_k && !options_.save_last) return;

  const std::string name =
      unique_name(format_checkpoint_name(options_.filename, options_.auto_insert_metric_name, trainer.current_epoch(),
                                         trainer.global_step(), trainer.callback_metrics()));
  // The state the checkpoint records must already include this save.
  std::vector<std::string> doomed;
  if (top_k) {
    if (k > 0 && static_cast<std::int64_t>(best_k_.size()) >= k) {
      doomed.push_back(best_k_[worst].first);
      best_k_.erase(best_k_.begin() + static_cast<std::ptrdiff_t>(worst));
    }
    best_k_.emplace_back(name, *score);
  }
  const std::string previous = last_name_;
  last_name_ = name;
  last_step_ = trainer.global_step();
  trainer.save_checkpoint(name);
  if (!previous.empty() && !holds(previous)) doomed.push_back(previous);
  for (const std::string& old : doomed)
    if (!holds(old)) trainer.remove_checkpoint(old);
}

std::string ModelCheckpoint::path_of(const std::string& name) const {
  if (name.empty()) return "";
  return root_.empty() ? name : root_ + "/" + name;
}

std::string ModelCheckpoint::best_model_path() const {
  if (best_k_.empty()) return "";
  std::size_t best = 0;
  for (std::size_t i = 1; i < best_k_.size(); ++i)
    if (better(best_k_[i].second, best_k_[best].second)) best = i;
  return path_of(best_k_[best].first);
}

std::optional<double> ModelCheckpoint::best_model_score() const {
  if (best_k_.empty()) return std::nullopt;
  double best = best_k_.front().second;
  for (const auto& [name, score] : best_k_)
    if (better(score, best)) best = score;
  return best;
}

std::string ModelCheckpoint::last_model_path() const { return path_of(last_name_); }

std::vector<std::pair<std::string, double>> ModelCheckpoint::best_k_models() const {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, score] : best_k_) out.emplace_back(path_of(name), score);
  return out;
}

std::string ModelCheckpoint::state_dict() const {
  track::JsonValue state = track::JsonValue::object();
  track::JsonValue kept = track::JsonValue::array();
  for (const auto& [name, score] : best_k_) {
    track::JsonValue entry = track::JsonValue::object();
    entry.set("name", track::JsonValue::string(name));
    entry.set("score", track::JsonValue::string(hex_double(score)));  // hex float: exact
    kept.push_back(std::move(entry));
  }
  state.set("best_k", std::move(kept));
  state.set("last", track::JsonValue::string(last_name_));
  state.set("last_step", track::JsonValue::number(last_step_));
  return track::to_json(state);
}

void ModelCheckpoint::load_state_dict(const std::string& state) {
  track::JsonValue json = track::parse_json(state);
  const track::JsonValue* kept = json.find("best_k");
  const track::JsonValue* last = json.find("last");
  const track::JsonValue* last_step = json.find("last_step");
  if (!kept || !kept->is_array() || !last || !last->is_string() || !last_step || !last_step->as_int64())
    throw Error("ModelCheckpoint state in the checkpoint is not {\"best_k\", \"last\", \"last_step\"}: " + state);
  best_k_.clear();
  for (const track::JsonValue& entry : kept->items()) {
    const track::JsonValue* name = entry.find("name");
    const track::JsonValue* score = entry.find("score");
    if (!name || !name->is_string() || !score || !score->is_string())
      throw Error("ModelCheckpoint state in the checkpoint has a best_k entry without name and score: " + state);
    best_k_.emplace_back(name->text(), std::strtod(score->text().c_str(), nullptr));
  }
  last_name_ = last->text();
  last_step_ = *last_step->as_int64();
}

}  // namespace kiln
