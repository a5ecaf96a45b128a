#include "kiln/train/timer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kiln/config/error.h"
#include "kiln/error.h"
#include "kiln/track/json.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {

config::ConfigError option_error(const std::string& key, const std::string& message) {
  return config::ConfigError(
      config::Diagnostic{"timer." + key, config::Source::generated("callback options"), message, ""});
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr const char* kStages[] = {"train", "validate", "test"};

}  // namespace

std::optional<double> parse_duration(const std::string& text) {
  static constexpr double kUnits[] = {1, 60, 3600, 86400};
  std::vector<double> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t colon = text.find(':', start);
    std::string part = text.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    fields.push_back(std::stod(part));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (fields.size() > 4) return std::nullopt;
  double seconds = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) seconds += fields[fields.size() - 1 - i] * kUnits[i];
  return seconds;
}

Timer::Timer(TimerOptions options, Clock clock) : options_(std::move(options)), clock_(std::move(clock)) {
  if (!clock_) clock_ = steady_seconds;
  if (options_.interval != "step" && options_.interval != "epoch")
    throw option_error("interval", "expected 'step' or 'epoch', found '" + options_.interval + "'");
  if (options_.duration) {
    duration_ = parse_duration(*options_.duration);
    if (!duration_)
      throw option_error("duration",
                         "expected DD:HH:MM:SS (e.g. 00:12:00:00 for 12 hours), found '" + *options_.duration + "'");
  }
}

void Timer::start(const std::string& stage) { started_[stage] = clock_(); }

void Timer::stop(const std::string& stage) {
  auto it = started_.find(stage);
  if (it == started_.end()) return;
  elapsed_[stage] += clock_() - it->second;
  started_.erase(it);
}

double Timer::time_elapsed(const std::string& stage) const {
  double total = 0;
  if (auto it = elapsed_.find(stage); it != elapsed_.end()) total += it->second;
  if (auto it = started_.find(stage); it != started_.end()) total += clock_() - it->second;
  return total;
}

std::optional<double> Timer::time_remaining() const {
  if (!duration_) return std::nullopt;
  return *duration_ - time_elapsed("train");
}

void Timer::check(Trainer& trainer) {
  if (duration_ && time_elapsed("train") >= *duration_) trainer.request_stop();
}

void Timer::on_fit_start(Trainer&, Module&) { start("train"); }
void Timer::on_train_step_end(Trainer& trainer, Module&) {
  if (options_.interval == "step") check(trainer);
}
void Timer::on_train_batch_end(Trainer&, Module&) {
  stop("validate");  // a validation that logged nothing gets no on_validation_end
}
void Timer::on_validation_start(Trainer&, Module&) { start("validate"); }
void Timer::on_validation_end(Trainer&, Module&, const Metrics&) { stop("validate"); }
void Timer::on_train_epoch_end(Trainer& trainer, Module&) {
  if (options_.interval == "epoch") check(trainer);
}
void Timer::on_fit_end(Trainer&, Module&) { stop("train"); }
void Timer::on_test_start(Trainer&, Module&) { start("test"); }
void Timer::on_test_end(Trainer&, Module&, const Metrics&) { stop("test"); }

std::string Timer::state_dict() const {
  track::JsonValue elapsed = track::JsonValue::object();
  for (const char* stage : kStages) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", time_elapsed(stage));  // hex float: exact
    elapsed.set(stage, track::JsonValue::string(buf));
  }
  track::JsonValue state = track::JsonValue::object();
  state.set("time_elapsed", std::move(elapsed));
  return track::to_json(state);
}

void Timer::load_state_dict(const std::string& state) {
  track::JsonValue json = track::parse_json(state);
  const track::JsonValue* elapsed = json.find("time_elapsed");
  if (!elapsed || !elapsed->is_object()) throw Error("Timer state in the checkpoint has no time_elapsed: " + state);
  elapsed_.clear();
  for (const auto& [stage, value] : elapsed->members()) {
    if (!value.is_string()) throw Error("Timer state in the checkpoint: '" + stage + "' is not a hex float: " + state);
    elapsed_[stage] = std::strtod(value.text().c_str(), nullptr);
  }
}

}  // namespace kiln
