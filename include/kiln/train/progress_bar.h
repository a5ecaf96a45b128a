// ProgressBar (Lightning's TQDMProgressBar): training progress on stderr.
//
// On a terminal, one line refreshed in place (\r) every `refresh_rate` steps:
//   Epoch 2/6:  47%|#########           | 199/422 [00:16<00:18, 12.30it/s, loss=0.3412, lr=2.90e-04]
// Elsewhere (a log file, CI), plain lines every `plain_every_n_steps` steps,
// and in both modes a line with the metrics at each validation end and at
// each epoch end:
//   Epoch 2/6: 199/422 (47%) [00:16<00:18, 12.30it/s, loss=0.3412, lr=2.90e-04]
//   Epoch 2/6: validation  val/acc=0.8778  val/loss=0.3465
// and after Trainer::test:
//   Test:  test/acc=0.8717  test/loss=0.3612
//
// Mode: env KILN_PROGRESS=tty|plain|off wins (the `kiln` CLI sets it when it
// copies stderr into train.log); else env CI set (to anything) means plain;
// else tty when stderr is a terminal, plain when not. The loss is read
// (a host sync) only when a line is printed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "kiln/train/callback.h"

namespace kiln {

enum class ProgressMode { kTty, kPlain, kOff };

// The mode for these environment values (nullptr: unset) and whether
// stderr is a terminal. An unknown KILN_PROGRESS value counts as unset.
ProgressMode choose_progress_mode(const char* kiln_progress, const char* ci, bool stderr_is_tty);

// What one progress line shows.
struct ProgressLine {
  std::int64_t epoch = 0;       // 0-based; printed as is, like Lightning
  std::int64_t max_epochs = 0;  // <= 0: unknown (printed without "/N")
  std::int64_t batch = 0;       // batches done in this epoch
  std::int64_t total = 0;       // batches in this epoch; <= 0: unknown (no % or ETA)
  double elapsed = 0;           // seconds in this epoch
  double rate = 0;              // batches per second; <= 0: unknown
  std::optional<double> loss;
  std::optional<double> lr;
};

// The line, without \r or \n. bar: the TTY form with a 20-character bar;
// else the plain form. Pure, for tests. Times are MM:SS, or H:MM:SS from an
// hour on; the ETA is (total - batch) / rate.
std::string format_progress_line(const ProgressLine& line, bool bar);
// "Epoch 2/6: validation  val/acc=0.8778  val/loss=0.3465" (4 significant
// digits; "epoch" is left out).
std::string format_metrics_line(std::int64_t epoch, std::int64_t max_epochs, const std::string& what,
                                const Metrics& metrics);

struct ProgressBarOptions {
  std::int64_t refresh_rate = 10;          // TTY: refresh every N batches (0: never during the epoch)
  std::int64_t plain_every_n_steps = 100;  // plain: a line every N batches (0: only at validation/epoch ends)
  std::optional<std::string> mode;         // "tty" | "plain" | "off"; null: from the environment (above)
};

class ProgressBar final : public Callback {
 public:
  // `out` is where lines go (stderr; tests pass a file). Throws ConfigError for a bad mode.
  explicit ProgressBar(ProgressBarOptions options = {}, std::FILE* out = nullptr);

  void on_fit_start(Trainer& trainer, Module& module) override;
  void on_train_epoch_start(Trainer& trainer, Module& module) override;
  void on_train_batch_end(Trainer& trainer, Module& module) override;
  void on_validation_end(Trainer& trainer, Module& module, const Metrics& metrics) override;
  void on_train_epoch_end(Trainer& trainer, Module& module) override;
  void on_test_end(Trainer& trainer, Module& module, const Metrics& metrics) override;

  ProgressMode mode() const { return mode_; }

 private:
  ProgressLine current(Trainer& trainer) const;
  void print(const std::string& text, bool newline);

  ProgressBarOptions options_;
  std::FILE* out_;
  ProgressMode mode_;
  std::int64_t batch_ = 0;  // batches done this epoch
  double epoch_start_ = 0;  // seconds, steady clock
  bool line_open_ = false;  // a TTY line without its newline yet
};

}  // namespace kiln
