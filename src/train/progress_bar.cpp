#include "kiln/train/progress_bar.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "kiln/config/error.h"
#include "kiln/train/lr_monitor.h"
#include "kiln/train/trainer.h"

namespace kiln {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// tqdm's format_interval: MM:SS, or H:MM:SS from an hour on.
std::string format_interval(double seconds) {
  auto total = static_cast<long long>(std::max(0.0, seconds));
  long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", m, s);
  }
  return buf;
}

std::string epoch_label(std::int64_t epoch, std::int64_t max_epochs) {
  std::string label = "Epoch " + std::to_string(epoch);
  if (max_epochs > 0) label += "/" + std::to_string(max_epochs);
  return label;
}

std::optional<ProgressMode> parse_mode(std::string_view text) {
  if (text == "tty") return ProgressMode::kTty;
  if (text == "plain") return ProgressMode::kPlain;
  if (text == "off") return ProgressMode::kOff;
  return std::nullopt;
}

}  // namespace

ProgressMode choose_progress_mode(const char* kiln_progress, const char* ci, bool stderr_is_tty) {
  if (kiln_progress)
    if (auto mode = parse_mode(kiln_progress)) return *mode;
  if (ci) return ProgressMode::kPlain;
  return stderr_is_tty ? ProgressMode::kTty : ProgressMode::kPlain;
}

std::string format_progress_line(const ProgressLine& line, bool bar) {
  const bool known = line.total > 0;
  std::string out = epoch_label(line.epoch, line.max_epochs) + ": ";
  char buf[128];
  if (bar) {
    double fraction = known ? std::min(1.0, static_cast<double>(line.batch) / static_cast<double>(line.total)) : 0;
    constexpr int kWidth = 20;
    int filled = static_cast<int>(fraction * kWidth);
    std::snprintf(buf, sizeof buf, "%3d%%|", static_cast<int>(fraction * 100));
    out += buf;
    out += std::string(filled, '#') + std::string(kWidth - filled, ' ') + "| ";
    out += std::to_string(line.batch) + "/" + (known ? std::to_string(line.total) : "?");
  } else {
    out += std::to_string(line.batch) + "/" + (known ? std::to_string(line.total) : "?");
    if (known) {
      std::snprintf(buf, sizeof buf, " (%d%%)",
                    static_cast<int>(100 * std::min(1.0, static_cast<double>(line.batch) / line.total)));
      out += buf;
    }
  }
  std::string eta = "?";
  if (known && line.rate > 0) eta = format_interval(static_cast<double>(line.total - line.batch) / line.rate);
  out += " [" + format_interval(line.elapsed) + "<" + eta + ", ";
  if (line.rate > 0) {
    std::snprintf(buf, sizeof buf, "%.2fit/s", line.rate);
    out += buf;
  } else {
    out += "?it/s";
  }
  if (line.loss) {
    std::snprintf(buf, sizeof buf, ", loss=%.4f", *line.loss);
    out += buf;
  }
  if (line.lr) {
    std::snprintf(buf, sizeof buf, ", lr=%.2e", *line.lr);
    out += buf;
  }
  return out + "]";
}

std::string format_metrics_line(std::int64_t epoch, std::int64_t max_epochs, const std::string& what,
                                const Metrics& metrics) {
  std::string out = epoch_label(epoch, max_epochs) + ": " + what;
  for (const auto& [name, value] : metrics) {
    if (name == "epoch") continue;
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %s=%.4g", name.c_str(), value);
    out += buf;
  }
  return out;
}

ProgressBar::ProgressBar(ProgressBarOptions options, std::FILE* out)
    : options_(std::move(options)), out_(out ? out : stderr) {
  if (options_.mode) {
    auto mode = parse_mode(*options_.mode);
    if (!mode)
      throw config::ConfigError(
          config::Diagnostic{"progress_bar.mode", config::Source::generated("callback options"),
                             "expected 'tty', 'plain', 'off' or null, found '" + *options_.mode + "'", ""});
    mode_ = *mode;
  } else {
    mode_ = choose_progress_mode(std::getenv("KILN_PROGRESS"), std::getenv("CI"), ::isatty(::fileno(out_)) == 1);
  }
}

void ProgressBar::print(const std::string& text, bool newline) {
  if (mode_ == ProgressMode::kTty) {
    // \r and clear to the end of the line: the new text may be shorter.
    std::fprintf(out_, "\r%s\033[K%s", text.c_str(), newline ? "\n" : "");
    line_open_ = !newline;
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

ProgressLine ProgressBar::current(Trainer& trainer) const {
  ProgressLine line;
  line.epoch = trainer.current_epoch();
  line.max_epochs = trainer.options().max_epochs;
  line.batch = batch_;
  line.total = trainer.batches_per_epoch();
  line.elapsed = steady_seconds() - epoch_start_;
  const auto done_here = static_cast<double>(batch_ - trainer.epoch_first_batch());
  line.rate = line.elapsed > 0 ? done_here / line.elapsed : 0;
  // The one host sync of the progress bar, only when a line is printed.
  if (trainer.last_loss().defined()) line.loss = trainer.last_loss().item<double>();
  Metrics rates = LearningRateMonitor::learning_rates(trainer);
  if (!rates.empty()) line.lr = rates.begin()->second;
  return line;
}

void ProgressBar::on_fit_start(Trainer& trainer, Module&) {
  if (mode_ == ProgressMode::kOff) return;
  std::string text = "kiln: training for " + std::to_string(trainer.total_steps()) + " steps at most";
  if (trainer.global_step() > 0) text += ", from step " + std::to_string(trainer.global_step());
  print(text, true);
}

void ProgressBar::on_train_epoch_start(Trainer& trainer, Module&) {
  // A resumed epoch starts part-way: its batches before the checkpoint count as done.
  batch_ = trainer.epoch_first_batch();
  epoch_start_ = steady_seconds();
}

void ProgressBar::on_train_batch_end(Trainer& trainer, Module&) {
  ++batch_;
  if (mode_ == ProgressMode::kOff) return;
  const std::int64_t every = mode_ == ProgressMode::kTty ? options_.refresh_rate : options_.plain_every_n_steps;
  if (every <= 0 || batch_ % every != 0 || batch_ >= trainer.batches_per_epoch()) return;  // the epoch end prints
  print(format_progress_line(current(trainer), mode_ == ProgressMode::kTty), false);
}

void ProgressBar::on_validation_end(Trainer& trainer, Module&, const Metrics& metrics) {
  if (mode_ == ProgressMode::kOff) return;
  print(format_metrics_line(trainer.current_epoch(), trainer.options().max_epochs, "validation", metrics), true);
}

void ProgressBar::on_train_epoch_end(Trainer& trainer, Module&) {
  if (mode_ == ProgressMode::kOff) return;
  print(format_progress_line(current(trainer), mode_ == ProgressMode::kTty), true);
}

void ProgressBar::on_test_end(Trainer& trainer, Module&, const Metrics& metrics) {
  if (mode_ == ProgressMode::kOff) return;
  std::string text = "Test:";
  for (const auto& [name, value] : metrics) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %s=%.4g", name.c_str(), value);
    text += buf;
  }
  print(text, true);
}

}  // namespace kiln
