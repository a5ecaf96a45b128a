#include "kiln/dist/ddp.h"

#include <algorithm>

#include "flat_shards.h"
#include "kiln/error.h"

namespace kiln::dist {

struct GradientSync::Bucket {
  torch::Tensor flat;                                 // the bucket's gradients, end to end
  std::int64_t numel = 0;                             // flat's length
  std::int64_t start = 0;                             // where `flat` begins in the flat space
  std::vector<std::size_t> params;                    // indices into params_
  std::vector<bool> ready;                            // per entry of `params`
  std::size_t pending = 0;                            // entries not ready yet
  std::vector<c10::intrusive_ptr<c10d::Work>> works;  // reductions in flight
  torch::Tensor received;                             // ZeRO: every rank's part of this rank's shard
  std::vector<unsigned> hooks;                        // hook handles, to remove them
  bool launched = false;                              // this step's reductions started
  bool harvested = false;                             // ... and their result is in place
};

GradientSync::GradientSync(torch::nn::Module& module, c10::intrusive_ptr<CollectiveGroup> group, DdpOptions options,
                           std::shared_ptr<CollectiveWatch> watch)
    : module_(module), group_(std::move(group)), options_(options), watch_(std::move(watch)) {
  if (!watch_)
    watch_ = std::make_shared<CollectiveWatch>(c10::intrusive_ptr<c10d::Store>(), group_->getRank(), group_->getSize(),
                                               std::chrono::seconds(0));
  for (const torch::Tensor& p : module_.parameters())
    if (p.requires_grad()) params_.push_back(p);
  if (params_.empty()) throw Error("ddp: the module has no parameters that require grad");
  const auto dtype = params_.front().scalar_type();
  const auto device = params_.front().device();
  slot_.resize(params_.size());
  flat_offset_.resize(params_.size());
  // Reverse order: the first bucket fills first during backward.
  std::size_t bytes = 0;
  for (std::size_t i = params_.size(); i-- > 0;) {
    const torch::Tensor& p = params_[i];
    if (p.scalar_type() != dtype || p.device() != device)
      throw Error("ddp: every parameter must share one dtype and device; parameter " + std::to_string(i) + " is " +
                  std::string(c10::toString(p.scalar_type())) + " on " + p.device().str());
    const std::size_t p_bytes = static_cast<std::size_t>(p.numel()) * p.element_size();
    if (buckets_.empty() || (bytes > 0 && bytes + p_bytes > options_.bucket_cap_bytes)) {
      buckets_.push_back(std::make_unique<Bucket>());
      buckets_.back()->start = flat_numel_;
      bytes = 0;
    }
    Bucket& bucket = *buckets_.back();
    slot_[i] = {buckets_.size() - 1, flat_numel_ - bucket.start};
    flat_offset_[i] = flat_numel_;
    flat_numel_ += p.numel();
    bucket.params.push_back(i);
    bytes += p_bytes;
  }
  for (auto& bucket : buckets_) {
    for (std::size_t j : bucket->params) bucket->numel += params_[j].numel();
    bucket->ready.assign(bucket->params.size(), false);
    bucket->pending = bucket->params.size();
  }
  const std::int64_t world = group_->getSize();
  shard_numel_ = (flat_numel_ + world - 1) / world;
  if (options_.reduce_to_shard_owners)
    gradient_shard_ = torch::zeros({shard_numel_}, params_.front().options().requires_grad(false));
  for (std::size_t i = 0; i < params_.size(); ++i)
    buckets_[slot_[i].first]->hooks.push_back(
        params_[i].register_hook([this, i](const torch::Tensor& grad) { on_gradient(i, grad); }));
}

GradientSync::~GradientSync() {
  for (auto& bucket : buckets_) {
    for (std::size_t k = 0; k < bucket->params.size(); ++k) params_[bucket->params[k]].remove_hook(bucket->hooks[k]);
    for (auto& work : bucket->works) {
      try {
        work->wait();
      } catch (const std::exception&) {
        // Unwinding already: the failure that got us here is the one to report.
      }
    }
  }
}

std::size_t GradientSync::bucket_count() const { return buckets_.size(); }

std::int64_t GradientSync::bucket_buffer_bytes() const {
  std::int64_t bytes = 0;
  for (const auto& bucket : buckets_)
    if (bucket->flat.defined()) bytes += bucket->flat.numel() * static_cast<std::int64_t>(bucket->flat.element_size());
  return bytes;
}

void GradientSync::broadcast_from_rank_zero() {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> states;
  for (const torch::Tensor& p : module_.parameters()) states.push_back(p);
  for (const torch::Tensor& b : module_.buffers()) states.push_back(b);
  for (torch::Tensor& t : states) {
    std::vector<torch::Tensor> one{t};
    watch_->wait(group_->broadcast(one), "broadcast of the parameters and buffers from rank 0");
  }
}

void GradientSync::on_gradient(std::size_t param_index, const torch::Tensor& grad) {
  if (!sync_) return;
  auto [bucket_index, offset] = slot_[param_index];
  Bucket& bucket = *buckets_[bucket_index];
  const torch::Tensor& param = params_[param_index];
  torch::NoGradGuard no_grad;
  torch::Tensor view = buffer(bucket).narrow(0, offset, param.numel()).view(param.sizes());
  // The hook sees this backward's gradient before it is added to .grad:
  // with accumulated micro-batches (no_sync), .grad holds the rest.
  if (param.grad().defined()) {
    torch::add_out(view, param.grad(), grad);
  } else {
    view.copy_(grad);
  }
  std::size_t k = 0;
  while (bucket.params[k] != param_index) ++k;
  if (!bucket.ready[k]) {
    bucket.ready[k] = true;
    if (--bucket.pending == 0) {
      launch(bucket);
      // This parameter's .grad is written after its hook returns; the
      // others' are copied into the bucket already.
      if (options_.free_reduced_gradients) free_gradients(bucket, param_index);
      // ZeRO: buckets whose reductions are done give their shard its part
      // and their buffer back now, so backward holds only those in flight.
      if (options_.reduce_to_shard_owners)
        for (auto& other : buckets_)
          if (other->launched && !other->harvested && all_completed(*other)) harvest(*other);
    }
  }
}

torch::Tensor& GradientSync::buffer(Bucket& bucket) {
  // DDP keeps its buckets (PyTorch's do too); ZeRO allocates one when its
  // first gradient comes and frees it once reduced.
  if (!bucket.flat.defined())
    bucket.flat = torch::empty({bucket.numel}, params_.front().options().requires_grad(false));
  return bucket.flat;
}

bool GradientSync::all_completed(const Bucket& bucket) const {
  for (const auto& work : bucket.works)
    if (!work->isCompleted()) return false;
  return true;
}

void GradientSync::launch(Bucket& bucket) {
  bucket.launched = true;
  if (!options_.reduce_to_shard_owners) {
    std::vector<torch::Tensor> tensors{bucket.flat};
    bucket.works.push_back(group_->allreduce(tensors));
    return;
  }
  // A reduce-scatter cut at the bucket, as an all-to-all: each rank sends
  // every other rank the part of the bucket in that rank's shard (the
  // shards follow each other, so the parts do too) and receives its own
  // part from everyone, (N-1)/N of the bucket each way; harvest() sums them.
  const int world = group_->getSize();
  std::vector<std::int64_t> send(static_cast<std::size_t>(world)), receive(static_cast<std::size_t>(world));
  for (int r = 0; r < world; ++r)
    send[static_cast<std::size_t>(r)] = shard_overlap(bucket.start, bucket.numel, r, shard_numel_).second;
  const std::int64_t mine = send[static_cast<std::size_t>(group_->getRank())];
  std::fill(receive.begin(), receive.end(), mine);
  bucket.received = torch::empty({world * mine}, bucket.flat.options());
  bucket.works.push_back(group_->alltoall_base(bucket.received, bucket.flat, receive, send));
}

std::string GradientSync::describe(const Bucket& bucket) const {
  std::size_t index = 0;
  while (buckets_[index].get() != &bucket) ++index;
  const std::string name = "gradient bucket " + std::to_string(index) + " of " + std::to_string(buckets_.size());
  return (options_.reduce_to_shard_owners ? "reduce-scatter of " : "all-reduce of ") + name;
}

void GradientSync::free_gradients(const Bucket& bucket, std::size_t except_param) {
  for (std::size_t j : bucket.params)
    if (j != except_param) params_[j].mutable_grad() = torch::Tensor();
}

void GradientSync::harvest(Bucket& bucket) {
  torch::NoGradGuard no_grad;
  for (std::size_t w = 0; w < bucket.works.size(); ++w) watch_->wait(bucket.works[w], describe(bucket));
  bucket.works.clear();
  bucket.harvested = true;
  const double world = static_cast<double>(group_->getSize());
  if (options_.reduce_to_shard_owners) {
    const int rank = group_->getRank();
    auto [offset, length] = shard_overlap(bucket.start, bucket.numel, rank, shard_numel_);
    if (length > 0) {
      // The ranks' parts, summed in rank order (the same order on every rank).
      torch::Tensor mine = gradient_shard_.narrow(0, bucket.start + offset - rank * shard_numel_, length);
      torch::sum_out(mine, bucket.received.view({group_->getSize(), length}), 0);
      mine.div_(world);
    }
    bucket.flat = torch::Tensor();
    bucket.received = torch::Tensor();
    return;
  }
  bucket.flat.div_(world);
  for (std::size_t k = 0; k < bucket.params.size(); ++k) {
    torch::Tensor param = params_[bucket.params[k]];
    torch::Tensor reduced = bucket.flat.narrow(0, slot_[bucket.params[k]].second, param.numel()).view(param.sizes());
    if (param.grad().defined()) {
      param.mutable_grad().copy_(reduced);
    } else {
      param.mutable_grad() = reduced.clone();
    }
  }
}

void GradientSync::finish_gradient_sync() {
  if (!sync_) throw Error("ddp: finish_gradient_sync() after a backward run under no_sync (set_sync(false))");
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    if (bucket->launched) continue;
    // Parameters backward did not reach: their local .grad (or zero), so
    // every rank still joins every reduction, in the same order.
    torch::Tensor& flat = buffer(*bucket);
    for (std::size_t k = 0; k < bucket->params.size(); ++k) {
      if (bucket->ready[k]) continue;
      const torch::Tensor& param = params_[bucket->params[k]];
      torch::Tensor view = flat.narrow(0, slot_[bucket->params[k]].second, param.numel()).view(param.sizes());
      if (param.grad().defined()) {
        view.copy_(param.grad());
      } else {
        view.zero_();
      }
    }
    launch(*bucket);
  }
  bytes_reduced_ = 0;
  for (auto& bucket : buckets_) {
    if (!bucket->harvested) harvest(*bucket);
    bytes_reduced_ += static_cast<std::size_t>(bucket->numel) * params_.front().element_size();
    if (options_.free_reduced_gradients) free_gradients(*bucket, params_.size());
    std::fill(bucket->ready.begin(), bucket->ready.end(), false);
    bucket->pending = bucket->params.size();
    bucket->launched = bucket->harvested = false;
  }
}

}  // namespace kiln::dist
