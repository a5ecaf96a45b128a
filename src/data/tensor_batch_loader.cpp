#include "kiln/data/tensor_batch_loader.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "kiln/data/prefetch_loader.h"
#include "kiln/data/shuffle.h"
#include "kiln/error.h"

namespace kiln::data {
namespace {

std::string sizes_of(const torch::Tensor& t) {
  std::string out = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

void check_tensors(const torch::Tensor& inputs, const torch::Tensor& targets, const TensorBatchLoaderOptions& o) {
  const std::string what = "TensorBatchLoader: ";
  if (!inputs.defined() || !targets.defined()) throw kiln::Error(what + "inputs and targets must be defined tensors");
  if (inputs.dim() == 0 || targets.dim() == 0) {
    throw kiln::Error(what + "inputs and targets need a first (example) dimension, found shapes " + sizes_of(inputs) +
                      " and " + sizes_of(targets));
  }
  if (inputs.size(0) != targets.size(0)) {
    throw kiln::Error(what + "inputs and targets must hold the same number of examples, found " +
                      std::to_string(inputs.size(0)) + " inputs and " + std::to_string(targets.size(0)) + " targets");
  }
  if (o.batch_size == 0) throw kiln::Error(what + "batch_size must be >= 1, found 0");
  if (o.num_replicas == 0 || o.rank >= o.num_replicas)
    throw kiln::Error(what + "rank " + std::to_string(o.rank) + " is not below num_replicas " +
                      std::to_string(o.num_replicas));
}

// The synchronous loader: computes each batch in next(). Only ever used by
// one thread at a time (the caller's, or PrefetchLoader's worker).
class TensorBatchCore final : public BatchLoader {
 public:
  TensorBatchCore(torch::Tensor inputs, torch::Tensor targets, const TensorBatchLoaderOptions& options)
      : inputs_(std::move(inputs)),
        targets_(std::move(targets)),
        options_(options),
        num_samples_(static_cast<std::size_t>(inputs_.size(0))) {}

  std::size_t size() const override {
    const std::size_t b = global_batch();
    return options_.drop_last || options_.num_replicas > 1 ? num_samples_ / b : (num_samples_ + b - 1) / b;
  }
  std::size_t num_samples() const override { return num_samples_; }

  void start_epoch(std::int64_t epoch, std::size_t start_batch) override {
    // Whatever happens below, the previous epoch is over.
    batch_ = end_ = 0;
    failure_ = nullptr;
    started_ = true;
    if (epoch < 0) throw kiln::Error("start_epoch: epoch must be >= 0, found " + std::to_string(epoch));
    if (start_batch > size()) {
      throw kiln::Error("start_epoch: start_batch " + std::to_string(start_batch) + " is past the end of the epoch (" +
                        std::to_string(size()) + " batches)");
    }
    order_.clear();
    if (options_.shuffle) order_ = random_permutation(num_samples_, epoch_seed(options_.seed, epoch));
    batch_ = start_batch;
    end_ = size();
  }

  std::optional<Batch> next() override {
    if (!started_) start_epoch(0, 0);
    if (failure_) std::rethrow_exception(failure_);
    if (batch_ >= end_) return std::nullopt;
    try {
      Batch batch = make(batch_);
      ++batch_;
      return batch;
    } catch (...) {
      failure_ = std::current_exception();
      throw;
    }
  }

 private:
  std::size_t global_batch() const { return options_.batch_size * options_.num_replicas; }

  Batch make(std::size_t b) const {
    const std::size_t first = b * global_batch() + options_.rank * options_.batch_size;
    const std::size_t count = std::min(options_.batch_size, num_samples_ - first);
    torch::Tensor index;
    if (options_.shuffle) {
      // from_blob borrows the slice; index_select copies the examples out.
      index = torch::from_blob(const_cast<std::int64_t*>(order_.data() + first), {static_cast<std::int64_t>(count)},
                               torch::kLong);
    } else {
      index = torch::arange(static_cast<std::int64_t>(first), static_cast<std::int64_t>(first + count), torch::kLong);
    }
    Batch batch{inputs_.index_select(0, index), targets_.index_select(0, index)};
    if (options_.transform) batch = options_.transform(std::move(batch));
    return batch;
  }

  torch::Tensor inputs_;
  torch::Tensor targets_;
  TensorBatchLoaderOptions options_;
  std::size_t num_samples_;
  std::vector<std::int64_t> order_;  // empty without shuffle
  std::size_t batch_ = 0;            // the next batch to make
  std::size_t end_ = 0;              // one past the last batch of the epoch (0 when none is in progress)
  std::exception_ptr failure_;
  bool started_ = false;
};

}  // namespace

TensorBatchLoader::TensorBatchLoader(torch::Tensor inputs, torch::Tensor targets, TensorBatchLoaderOptions options)
    : options_(std::move(options)) {
  check_tensors(inputs, targets, options_);
  impl_ = std::make_unique<TensorBatchCore>(std::move(inputs), std::move(targets), options_);
  if (options_.prefetch > 0) impl_ = std::make_unique<PrefetchLoader>(std::move(impl_), options_.prefetch);
}

TensorBatchLoader::~TensorBatchLoader() = default;

std::size_t TensorBatchLoader::size() const { return impl_->size(); }
std::size_t TensorBatchLoader::num_samples() const { return impl_->num_samples(); }
void TensorBatchLoader::start_epoch(std::int64_t epoch, std::size_t start_batch) {
  impl_->start_epoch(epoch, start_batch);
}
std::optional<Batch> TensorBatchLoader::next() { return impl_->next(); }

}  // namespace kiln::data
