#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "kiln/config/error.h"
#include "kiln/track/json.h"
#include "kiln/train/callback.h"
#include "kiln/train/trainer.h"

namespace kiln {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  if (options_.mode != "min" && options_.mode != "max")
    throw config::ConfigError(config::Diagnostic{"early_stopping.mode", config::Source::generated("callback options"),
                                                 "expected 'min' or 'max', found '" + options_.mode + "'", ""});
  best_ = options_.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}

void EarlyStopping::on_validation_end(Trainer& trainer, Module&, const Metrics& metrics) {
  auto it = metrics.find(options_.monitor);
  if (it == metrics.end()) {
    std::string logged;
    for (const auto& [name, value] : metrics) logged += (logged.empty() ? "" : ", ") + name;
    throw Error("EarlyStopping monitors '" + options_.monitor +
                "', which validation did not log (it logged: " + logged + ")");
  }
  double value = it->second;
  bool improved = options_.mode == "min" ? value < best_ - options_.min_delta : value > best_ + options_.min_delta;
  if (improved) {
    best_ = value;
    wait_ = 0;
    return;
  }
  if (++wait_ >= options_.patience) trainer.request_stop();
}

std::string EarlyStopping::state_dict() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{\"best\": \"%a\", \"wait\": %lld}", best_, static_cast<long long>(wait_));
  return buf;
}

void EarlyStopping::load_state_dict(const std::string& state) {
  track::JsonValue json = track::parse_json(state);
  const track::JsonValue* best = json.find("best");
  const track::JsonValue* wait = json.find("wait");
  if (!best || !best->is_string() || !wait || !wait->as_int64())
    throw Error("EarlyStopping state in the checkpoint is not {\"best\", \"wait\"}: " + state);
  best_ = std::strtod(best->text().c_str(), nullptr);  // hex float: exact
  wait_ = *wait->as_int64();
}

}  // namespace kiln
