#include "kiln/dist/zero.h"

#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "kiln/dist/elementwise_state.h"
#include "kiln/error.h"
#include "sharded_parameters.h"

namespace kiln::dist {
namespace {

ZeroOptions checked(ZeroOptions options) {
  if (options.stage < 1 || options.stage > 3)
    throw Error("zero: stage " + std::to_string(options.stage) +
                " does not exist; stages 1 (optimizer state sharded), 2 (+ gradients) and 3 (+ parameters) do");
  return options;
}

DdpOptions gradient_options(const ZeroOptions& options) {
  DdpOptions out;
  out.bucket_cap_bytes = options.bucket_cap_bytes;
  out.reduce_to_shard_owners = true;
  out.free_reduced_gradients = options.stage >= 2;
  return out;
}

std::int64_t tensor_bytes(const torch::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<std::int64_t>(t.element_size()) : 0;
}

// The tensors of LibTorch's elementwise optimizers' state; other optimizers
// are counted by the size of their serialised state.
std::int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer) {
  std::int64_t bytes = 0;
  for (const auto& [key, param_state] : optimizer.state()) {
    std::optional<ElementwiseState> state = elementwise_state(*param_state);
    if (!state) {
      std::ostringstream archive;
      torch::save(optimizer, archive);
      return static_cast<std::int64_t>(archive.str().size());
    }
    for (const auto& [name, tensor] : state->tensors) bytes += tensor_bytes(tensor);
  }
  return bytes;
}

// Parameter bytes with each storage counted once (ZeRO's parameters are
// views of one flat buffer).
std::int64_t parameter_bytes(torch::nn::Module& module) {
  std::set<const void*> storages;
  std::int64_t bytes = 0;
  for (const torch::Tensor& p : module.parameters()) {
    const void* storage = p.storage().unsafeGetStorageImpl();
    if (storages.insert(storage).second) bytes += static_cast<std::int64_t>(p.storage().nbytes());
  }
  return bytes;
}

std::int64_t gradient_bytes(torch::nn::Module& module) {
  std::int64_t bytes = 0;
  for (const torch::Tensor& p : module.parameters()) bytes += tensor_bytes(p.grad());
  return bytes;
}

}  // namespace

ZeroOptimizer::ZeroOptimizer(torch::nn::Module& module, c10::intrusive_ptr<CollectiveGroup> group,
                             const Factory& factory, ZeroOptions options, std::shared_ptr<CollectiveWatch> watch)
    : module_(module),
      group_(group),
      options_(checked(options)),
      rank_(group->getRank()),
      world_(group->getSize()),
      sync_(module, group, gradient_options(options_), std::move(watch)) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor>& params = sync_.parameters();
  if (options_.stage == 3) {
    // The shards are cut from rank 0's model, and then only they remain.
    sync_.broadcast_from_rank_zero();
    shard_ = torch::zeros({sync_.shard_numel()}, params.front().options().requires_grad(false));
    std::vector<FlatParameter> placed;
    for (std::size_t i = 0; i < params.size(); ++i) placed.push_back({params[i], sync_.flat_offset(i)});
    sharded_ = std::make_shared<ShardedParameters>(std::move(placed), shard_, options_.units, group_, sync_.watch());
    shard_.set_requires_grad(true);
  } else {
    flat_params_ = torch::zeros({world_ * sync_.shard_numel()}, params.front().options().requires_grad(false));
    for (std::size_t i = 0; i < params.size(); ++i) {
      torch::Tensor param = params[i];
      torch::Tensor view = flat_params_.narrow(0, sync_.flat_offset(i), param.numel()).view(param.sizes());
      view.copy_(param);
      // The parameter keeps its autograd identity (hooks, grad accumulator)
      // and now lives in the flat buffer, as DeepSpeed's flat parameters do.
      param.set_data(view);
    }
    // A view of a buffer that needs no grad is a leaf: the optimizer updates
    // it in place, which updates the parameters it overlaps.
    shard_ = flat_params_.narrow(0, shard_start(), sync_.shard_numel());
    shard_.set_requires_grad(true);
  }
  factory_ = factory;
  optimizer_ = factory({shard_});
  if (optimizer_ && optimizer_->param_groups().size() > 1)
    throw Error("zero: the optimizer splits its parameters into " + std::to_string(optimizer_->param_groups().size()) +
                " groups (optimizer.weight_decay_1d: false does), which ZeRO's flat shard of all parameters "
                "cannot honour; use weight_decay_1d: true, or strategy=ddp");
  std::size_t given = 0;
  if (optimizer_)
    for (const auto& g : optimizer_->param_groups()) given += g.params().size();
  if (given != 1)
    throw Error(
        "zero: the optimizer factory must build its optimizer over exactly the tensors it is given (one shard)");
}

FullParameters::FullParameters(ShardedParameters* sharded, bool writeback) : sharded_(sharded), writeback_(writeback) {
  if (sharded_) sharded_->gather_all();
}

FullParameters::FullParameters(FullParameters&& other) noexcept
    : sharded_(std::exchange(other.sharded_, nullptr)), writeback_(other.writeback_) {}

FullParameters::~FullParameters() {
  if (sharded_) sharded_->release_all(writeback_);
}

void ZeroOptimizer::broadcast_from_rank_zero() {
  if (!sharded_) return sync_.broadcast_from_rank_zero();
  torch::NoGradGuard no_grad;
  for (torch::Tensor b : module_.buffers()) {
    std::vector<torch::Tensor> one{b};
    sync_.watch()->wait(group_->broadcast(one), "broadcast of the buffers from rank 0");
  }
}

void ZeroOptimizer::finish_gradient_sync() {
  sync_.finish_gradient_sync();
  shard_.mutable_grad() = sync_.gradient_shard();
  if (sharded_) sharded_->release_all();
}

std::shared_ptr<models::UnitHooks> ZeroOptimizer::unit_hooks() const { return sharded_; }

void ZeroOptimizer::gather_root_parameters() {
  if (sharded_) sharded_->gather_root();
}

void ZeroOptimizer::release_parameters() {
  if (sharded_) sharded_->release_all();
}

FullParameters ZeroOptimizer::summon_full_params(bool writeback) { return FullParameters(sharded_.get(), writeback); }

std::size_t ZeroOptimizer::spare_unit_bytes() const { return sharded_ ? sharded_->spare_bytes() : 0; }

double ZeroOptimizer::clip_grad_norm_(double max_norm) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& grad = sync_.gradient_shard();
  std::vector<torch::Tensor> squares{grad.to(torch::kFloat64).pow(2).sum().reshape({1})};
  sync_.watch()->wait(group_->allreduce(squares), "all-reduce of the gradient norm");
  const double total = std::sqrt(squares.front().item<double>());
  // torch::nn::utils::clip_grad_norm_'s rule.
  const double coefficient = max_norm / (total + 1e-6);
  if (coefficient < 1) sync_.gradient_shard().mul_(coefficient);
  return total;
}

void ZeroOptimizer::clip_grad_value_(double clip_value) {
  torch::NoGradGuard no_grad;
  sync_.gradient_shard().clamp_(-clip_value, clip_value);
}

void ZeroOptimizer::all_gather_parameters() {
  torch::NoGradGuard no_grad;
  if (sharded_) {
    // The optimizer stepped the shard; the next forward gathers from it.
    bytes_gathered_ = sharded_->take_bytes_gathered();
    return;
  }
  // An all-gather as one broadcast per shard, in place in the flat buffer:
  // the same bytes on the wire as Gloo's all-gather, without its copies
  // through a freshly allocated buffer of the whole model (3x faster here).
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (int r = 0; r < world_; ++r) {
    std::vector<torch::Tensor> shard{flat_params_.narrow(0, r * sync_.shard_numel(), sync_.shard_numel())};
    c10d::BroadcastOptions from;
    from.rootRank = r;
    works.push_back(group_->broadcast(shard, from));
  }
  for (int r = 0; r < world_; ++r)
    sync_.watch()->wait(works[static_cast<std::size_t>(r)],
                        "all-gather of the parameter shards (rank " + std::to_string(r) + "'s)");
  bytes_gathered_ = static_cast<std::size_t>(tensor_bytes(flat_params_));
  // Stage 1 keeps its gradients allocated (zeroed, as DDP's optimizer does),
  // stage 2 has freed them during backward.
  for (const torch::Tensor& p : sync_.parameters())
    if (p.grad().defined()) p.grad().zero_();
}

ModelStateBytes ZeroOptimizer::model_state_bytes() const {
  ModelStateBytes out;
  out.parameters = parameter_bytes(module_) + (sharded_ ? tensor_bytes(shard_) : 0);
  out.gradients = gradient_bytes(module_) + tensor_bytes(sync_.gradient_shard());
  out.optimizer = optimizer_state_bytes(*optimizer_);
  return out;
}

ModelStateBytes model_state_bytes(torch::nn::Module& module, const torch::optim::Optimizer& optimizer) {
  ModelStateBytes out;
  out.parameters = parameter_bytes(module);
  out.gradients = gradient_bytes(module);
  out.optimizer = optimizer_state_bytes(optimizer);
  return out;
}

}  // namespace kiln::dist
