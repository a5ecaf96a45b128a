#include "kiln/data/token_windows.h"

#include <sys/stat.h>

#include <algorithm>

#include "kiln/data/error.h"
#include "kiln/data/shuffle.h"
#include "kiln/data/token_file.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

// Where the tokens of one epoch's windows come from.
class WindowSource {
 public:
  virtual ~WindowSource() = default;
  // Called before the epoch's first window.
  virtual void begin_epoch(std::int64_t epoch) = 0;
  // Window `index` of the epoch: `length` tokens into `out`.
  virtual void window(std::size_t index, std::size_t length, std::int64_t* out) const = 0;
};

// Windows of a token file range, at seeded random starts (training) or
// one after another from the range's start (evaluation).
class FileWindows final : public WindowSource {
 public:
  FileWindows(std::shared_ptr<const TokenFile> file, std::uint64_t begin, std::uint64_t end, std::size_t windows,
              std::size_t length, std::optional<std::uint64_t> seed)
      : file_(std::move(file)), begin_(begin), end_(end), windows_(windows), length_(length), seed_(seed) {}

  void begin_epoch(std::int64_t epoch) override {
    if (!seed_) {
      // Consecutive windows overlapping by the one token that is both the
      // last target of one and the first input of the next.
      starts_.resize(windows_);
      for (std::size_t i = 0; i < windows_; ++i) starts_[i] = begin_ + i * (length_ - 1);
      return;
    }
    starts_ = random_window_starts(end_ - begin_, length_, windows_, epoch_seed(*seed_, epoch));
    for (std::uint64_t& start : starts_) start += begin_;
  }

  void window(std::size_t index, std::size_t length, std::int64_t* out) const override {
    const std::uint64_t start = starts_.at(index);
    for (std::size_t i = 0; i < length; ++i) out[i] = (*file_)[start + i];
  }

 private:
  std::shared_ptr<const TokenFile> file_;
  std::uint64_t begin_, end_;
  std::size_t windows_, length_;
  std::optional<std::uint64_t> seed_;
  std::vector<std::uint64_t> starts_;
};

// Uniform random tokens: token i of window w in epoch e from
// SplitMix64(mix64(epoch_seed(seed, e) + w)), so any window is made alone.
// Evaluation windows are those of epoch 0, every epoch.
class SyntheticWindows final : public WindowSource {
 public:
  SyntheticWindows(std::uint64_t seed, std::uint64_t vocab, bool same_every_epoch)
      : seed_(seed), vocab_(vocab), same_every_epoch_(same_every_epoch) {}
  void begin_epoch(std::int64_t epoch) override { epoch_seed_ = epoch_seed(seed_, same_every_epoch_ ? 0 : epoch); }
  void window(std::size_t index, std::size_t length, std::int64_t* out) const override {
    SplitMix64 random(mix64(epoch_seed_ + index));
    // The high 32 bits scaled to [0, vocab): no modulo bias worth the name
    // for vocabularies far below 2^32.
    for (std::size_t i = 0; i < length; ++i) out[i] = static_cast<std::int64_t>(((random.next() >> 32) * vocab_) >> 32);
  }

 private:
  std::uint64_t seed_, vocab_;
  bool same_every_epoch_;
  std::uint64_t epoch_seed_ = 0;
};

// Batches of windows: input = tokens [0, T), target = tokens [1, T] of each.
// With replicas, global batch b holds windows [b*B*N, (b+1)*B*N) and rank r
// gets slice r of it; an incomplete last global batch is dropped.
class WindowBatchLoader final : public BatchLoader {
 public:
  WindowBatchLoader(std::unique_ptr<WindowSource> source, std::size_t windows, std::size_t block_size,
                    std::size_t batch_size, std::size_t rank, std::size_t replicas)
      : source_(std::move(source)),
        windows_(windows),
        block_size_(block_size),
        batch_size_(batch_size),
        rank_(rank),
        replicas_(replicas) {}

  std::size_t size() const override {
    if (replicas_ > 1) return windows_ / (batch_size_ * replicas_);
    return (windows_ + batch_size_ - 1) / batch_size_;
  }
  std::size_t num_samples() const override { return windows_; }

  void start_epoch(std::int64_t epoch, std::size_t start_batch) override {
    started_ = true;
    next_batch_ = size();  // nothing left if the checks below throw
    if (epoch < 0) throw Error("token windows: epoch must be >= 0, got " + std::to_string(epoch));
    if (start_batch > size())
      throw Error("token windows: start batch " + std::to_string(start_batch) + " is past the epoch's " +
                  std::to_string(size()) + " batches");
    source_->begin_epoch(epoch);
    next_batch_ = start_batch;
  }

  std::optional<Batch> next() override {
    if (!started_) start_epoch(0, 0);
    if (next_batch_ >= size()) return std::nullopt;
    const std::size_t first = next_batch_ * batch_size_ * replicas_ + rank_ * batch_size_;
    const std::size_t count = std::min(batch_size_, windows_ - first);
    ++next_batch_;
    const std::size_t length = block_size_ + 1;
    torch::Tensor windows =
        torch::empty({static_cast<std::int64_t>(count), static_cast<std::int64_t>(length)}, torch::kLong);
    std::int64_t* out = windows.data_ptr<std::int64_t>();
    for (std::size_t i = 0; i < count; ++i) source_->window(first + i, length, out + i * length);
    const auto t = static_cast<std::int64_t>(block_size_);
    return Batch{windows.narrow(1, 0, t).contiguous(), windows.narrow(1, 1, t).contiguous()};
  }

 private:
  std::unique_ptr<WindowSource> source_;
  std::size_t windows_, block_size_, batch_size_, rank_, replicas_;
  std::size_t next_batch_ = 0;
  bool started_ = false;
};

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

config::Schema<TokenWindowsOptions> token_windows_schema() {
  using O = TokenWindowsOptions;
  config::Schema<O> s("tokens", {.doc = "random fixed-length windows of raw token files (kiln data tokenize)"});
  s.field("train_file", &O::train_file).doc("training token file").required();
  s.field("val_file", &O::val_file).doc("validation token file (null: the last val_fraction of train_file)");
  s.field("test_file", &O::test_file).doc("test token file (null: no test stage)");
  s.field("val_fraction", &O::val_fraction).doc("held out for validation when val_file is null").range(0.0, 0.9);
  s.field("dtype", &O::dtype).doc("token width of the files").choices({"uint16", "uint32"});
  s.field("block_size", &O::block_size).doc("tokens per input window (the model's context)").min(1);
  s.field("batch_size", &O::batch_size).doc("windows per training batch, per rank").min(1);
  s.field("eval_batch_size", &O::eval_batch_size).doc("windows per validation and test batch").min(1);
  s.field("train_windows", &O::train_windows).doc("random windows per training epoch, all ranks together").min(1);
  s.field("eval_windows", &O::eval_windows).doc("most consecutive windows read for validation and test").min(1);
  s.field("seed", &O::seed).doc("seeds each epoch's window places");
  return s;
}

TokenWindowsDataModule::TokenWindowsDataModule(TokenWindowsOptions options) : options_(std::move(options)) {}
TokenWindowsDataModule::~TokenWindowsDataModule() = default;

void TokenWindowsDataModule::setup() {
  if (ready_) return;
  const TokenWidth width = options_.dtype == "uint32" ? TokenWidth::kUInt32 : TokenWidth::kUInt16;
  const auto window = static_cast<std::uint64_t>(options_.block_size) + 1;
  auto whole = [&](const std::string& path) -> Part {
    auto file = std::make_shared<const TokenFile>(path, width);
    return Part{file, 0, file->size()};
  };
  auto check = [&](const Part& part, const std::string& what) {
    if (part.end - part.begin < window)
      throw Error("tokens: " + what + " has " + std::to_string(part.end - part.begin) +
                  " tokens, fewer than one window of block_size + 1 = " + std::to_string(window) +
                  " (data.block_size)");
  };
  Part train = whole(options_.train_file);
  if (options_.val_file) {
    val_ = whole(*options_.val_file);
  } else if (options_.val_fraction > 0) {
    const auto held_out = static_cast<std::uint64_t>(static_cast<double>(train.end) * options_.val_fraction);
    val_ = Part{train.file, train.end - held_out, train.end};
    train.end -= held_out;
    check(*val_, "the validation part of " + options_.train_file + " (data.val_fraction)");
  }
  check(train, options_.val_file || options_.val_fraction == 0 ? options_.train_file
                                                               : "the training part of " + options_.train_file);
  if (options_.val_file) check(*val_, *options_.val_file);
  if (options_.test_file) {
    test_ = whole(*options_.test_file);
    check(*test_, *options_.test_file);
  }
  train_ = train;
  ready_ = true;
}

std::unique_ptr<BatchLoader> TokenWindowsDataModule::train_loader() {
  setup();
  const auto windows = static_cast<std::size_t>(options_.train_windows);
  const auto batch = static_cast<std::size_t>(options_.batch_size);
  if (windows < batch * num_replicas_)
    throw Error("tokens: data.train_windows (" + std::to_string(windows) + ") is less than one global batch (" +
                std::to_string(batch) + " windows x " + std::to_string(num_replicas_) + " ranks)");
  const auto length = static_cast<std::size_t>(options_.block_size) + 1;
  auto source = std::make_unique<FileWindows>(train_->file, train_->begin, train_->end, windows, length, options_.seed);
  return std::make_unique<WindowBatchLoader>(std::move(source), windows, length - 1, batch, rank_, num_replicas_);
}

std::unique_ptr<BatchLoader> TokenWindowsDataModule::eval_loader(const std::optional<Part>& part) const {
  if (!part) return nullptr;
  const auto length = static_cast<std::size_t>(options_.block_size) + 1;
  // Consecutive windows share one token, so n windows span n*T + 1 tokens.
  const std::size_t fit = (part->end - part->begin - 1) / (length - 1);
  const std::size_t windows = std::min<std::size_t>(fit, static_cast<std::size_t>(options_.eval_windows));
  auto source = std::make_unique<FileWindows>(part->file, part->begin, part->end, windows, length, std::nullopt);
  return std::make_unique<WindowBatchLoader>(std::move(source), windows, length - 1,
                                             static_cast<std::size_t>(options_.eval_batch_size), 0, 1);
}

std::unique_ptr<BatchLoader> TokenWindowsDataModule::val_loader() {
  setup();
  return eval_loader(val_);
}

std::unique_ptr<BatchLoader> TokenWindowsDataModule::test_loader() {
  setup();
  return eval_loader(test_);
}

std::vector<DataFile> TokenWindowsDataModule::files() const {
  std::vector<DataFile> out;
  for (const auto* path : {&options_.val_file, &options_.test_file})
    if (*path) out.push_back(DataFile{**path, file_size(**path)});
  out.insert(out.begin(), DataFile{options_.train_file, file_size(options_.train_file)});
  return out;
}

config::Schema<SyntheticTokensOptions> synthetic_tokens_schema() {
  using O = SyntheticTokensOptions;
  config::Schema<O> s("synthetic_tokens", {.doc = "uniform random token windows, for throughput runs"});
  s.field("vocab_size", &O::vocab_size).doc("tokens are drawn from 0..vocab_size-1").min(1);
  s.field("block_size", &O::block_size).doc("tokens per input window").min(1);
  s.field("batch_size", &O::batch_size).doc("windows per batch, per rank").min(1);
  s.field("train_windows", &O::train_windows).doc("windows per training epoch, all ranks together").min(1);
  s.field("eval_windows", &O::eval_windows).doc("validation windows (0: no validation)").min(0);
  s.field("seed", &O::seed).doc("seeds the tokens");
  return s;
}

std::unique_ptr<BatchLoader> SyntheticTokensDataModule::train_loader() {
  const auto windows = static_cast<std::size_t>(options_.train_windows);
  const auto batch = static_cast<std::size_t>(options_.batch_size);
  if (windows < batch * num_replicas_)
    throw Error("synthetic_tokens: data.train_windows (" + std::to_string(windows) +
                ") is less than one global batch (" + std::to_string(batch) + " windows x " +
                std::to_string(num_replicas_) + " ranks)");
  auto source =
      std::make_unique<SyntheticWindows>(options_.seed, static_cast<std::uint64_t>(options_.vocab_size), false);
  return std::make_unique<WindowBatchLoader>(std::move(source), windows, static_cast<std::size_t>(options_.block_size),
                                             batch, rank_, num_replicas_);
}

std::unique_ptr<BatchLoader> SyntheticTokensDataModule::val_loader() {
  if (options_.eval_windows == 0) return nullptr;
  // Its own seed, so validation never repeats a training window's tokens.
  auto source = std::make_unique<SyntheticWindows>(mix64(options_.seed ^ 0x76616c),
                                                   static_cast<std::uint64_t>(options_.vocab_size), true);
  return std::make_unique<WindowBatchLoader>(std::move(source), static_cast<std::size_t>(options_.eval_windows),
                                             static_cast<std::size_t>(options_.block_size),
                                             static_cast<std::size_t>(options_.batch_size), 0, 1);
}

}  // namespace kiln::data
