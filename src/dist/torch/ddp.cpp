#include "kiln/dist/ddp.h"

#include "kiln/error.h"

namespace kiln::dist {

struct GradientSync::Bucket {
  torch::Tensor flat;                   // the bucket's gradients, end to end
  std::vector<std::size_t> params;      // indices into params_
  std::vector<bool> ready;              // per entry of `params`
  std::size_t pending = 0;              // entries not ready yet
  c10::intrusive_ptr<c10d::Work> work;  // the all-reduce in flight
  std::vector<unsigned> hooks;          // hook handles, to remove them
};

GradientSync::GradientSync(torch::nn::Module& module, c10::intrusive_ptr<c10d::ProcessGroup> group, DdpOptions options)
    : module_(module), group_(std::move(group)) {
  for (const torch::Tensor& p : module_.parameters())
    if (p.requires_grad()) params_.push_back(p);
  if (params_.empty()) throw Error("ddp: the module has no parameters that require grad");
  const auto dtype = params_.front().scalar_type();
  const auto device = params_.front().device();
  slot_.resize(params_.size());
  // Reverse order: the first bucket fills first during backward.
  std::size_t bytes = 0;
  for (std::size_t i = params_.size(); i-- > 0;) {
    const torch::Tensor& p = params_[i];
    if (p.scalar_type() != dtype || p.device() != device)
      throw Error("ddp: every parameter must share one dtype and device; parameter " + std::to_string(i) + " is " +
                  std::string(c10::toString(p.scalar_type())) + " on " + p.device().str());
    const std::size_t p_bytes = static_cast<std::size_t>(p.numel()) * p.element_size();
    if (buckets_.empty() || (bytes > 0 && bytes + p_bytes > options.bucket_cap_bytes)) {
      buckets_.push_back(std::make_unique<Bucket>());
      bytes = 0;
    }
    Bucket& bucket = *buckets_.back();
    std::int64_t offset = 0;
    for (std::size_t j : bucket.params) offset += params_[j].numel();
    slot_[i] = {buckets_.size() - 1, offset};
    bucket.params.push_back(i);
    bytes += p_bytes;
  }
  for (auto& bucket : buckets_) {
    std::int64_t numel = 0;
    for (std::size_t j : bucket->params) numel += params_[j].numel();
    bucket->flat = torch::zeros({numel}, params_.front().options().requires_grad(false));
    bucket->ready.assign(bucket->params.size(), false);
    bucket->pending = bucket->params.size();
  }
  for (std::size_t i = 0; i < params_.size(); ++i)
    buckets_[slot_[i].first]->hooks.push_back(
        params_[i].register_hook([this, i](const torch::Tensor& grad) { on_gradient(i, grad); }));
}

GradientSync::~GradientSync() {
  for (auto& bucket : buckets_) {
    for (std::size_t k = 0; k < bucket->params.size(); ++k) params_[bucket->params[k]].remove_hook(bucket->hooks[k]);
    if (bucket->work) bucket->work->wait();
  }
}

std::size_t GradientSync::bucket_count() const { return buckets_.size(); }

void GradientSync::broadcast_from_rank_zero() {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> states;
  for (const torch::Tensor& p : module_.parameters()) states.push_back(p);
  for (const torch::Tensor& b : module_.buffers()) states.push_back(b);
  for (torch::Tensor& t : states) {
    std::vector<torch::Tensor> one{t};
    group_->broadcast(one)->wait();
  }
}

void GradientSync::on_gradient(std::size_t param_index, const torch::Tensor& grad) {
  if (!sync_) return;
  auto [bucket_index, offset] = slot_[param_index];
  Bucket& bucket = *buckets_[bucket_index];
  const torch::Tensor& param = params_[param_index];
  torch::NoGradGuard no_grad;
  torch::Tensor view = bucket.flat.narrow(0, offset, param.numel()).view(param.sizes());
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
    if (--bucket.pending == 0) launch(bucket);
  }
}

void GradientSync::launch(Bucket& bucket) {
  std::vector<torch::Tensor> tensors{bucket.flat};
  bucket.work = group_->allreduce(tensors);
}

void GradientSync::finish_gradient_sync() {
  if (!sync_) throw Error("ddp: finish_gradient_sync() after a backward run under no_sync (set_sync(false))");
  torch::NoGradGuard no_grad;
  bytes_reduced_ = 0;
  const double world = static_cast<double>(group_->getSize());
  for (auto& bucket : buckets_) {
    if (!bucket->work) {
      // Parameters backward did not reach: their local .grad (or zero),
      // so every rank still joins every all-reduce, in the same order.
      for (std::size_t k = 0; k < bucket->params.size(); ++k) {
        if (bucket->ready[k]) continue;
        const torch::Tensor& param = params_[bucket->params[k]];
        torch::Tensor view = bucket->flat.narrow(0, slot_[bucket->params[k]].second, param.numel()).view(param.sizes());
        if (param.grad().defined()) {
          view.copy_(param.grad());
        } else {
          view.zero_();
        }
      }
      launch(*bucket);
    }
  }
  for (auto& bucket : buckets_) {
    bucket->work->wait();
    bucket->work.reset();
    bucket->flat.div_(world);
    bytes_reduced_ += static_cast<std::size_t>(bucket->flat.numel()) * bucket->flat.element_size();
    for (std::size_t k = 0; k < bucket->params.size(); ++k) {
      torch::Tensor param = params_[bucket->params[k]];
      torch::Tensor reduced =
          bucket->flat.narrow(0, slot_[bucket->params[k]].second, param.numel()).view(param.sizes());
      if (param.grad().defined()) {
        param.mutable_grad().copy_(reduced);
      } else {
        param.mutable_grad() = reduced.clone();
      }
      bucket->ready[k] = false;
    }
    bucket->pending = bucket->params.size();
  }
}

}  // namespace kiln::dist
