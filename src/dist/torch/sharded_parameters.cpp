#include "sharded_parameters.h"

#include <algorithm>
#include <set>

#include "flat_shards.h"
#include "kiln/error.h"

namespace kiln::dist {

struct ShardedParameters::Unit {
  std::string name;                                         // for errors: "sharding unit 3 (GptBlock)"
  std::vector<FlatParameter> params;                        // by flat offset
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;  // [start, end) in the flat space, buffer order
  torch::Tensor buffer;                                     // the runs end to end; no storage while released
  bool gathered = false;
  std::size_t gradients_pending = 0;  // of this backward; 0: release when the step ends
  std::vector<std::pair<torch::Tensor, unsigned>> hooks;
};

namespace {

std::size_t buffer_bytes(const torch::Tensor& buffer) {
  return static_cast<std::size_t>(buffer.numel()) * buffer.element_size();
}

// The memory a released unit gave back, and its size in bytes.
using SpareMemory = std::vector<std::pair<std::size_t, at::DataPtr>>;
// Released units' memory kept for the next gather of that size: one unit in
// use and one just released (FSDP's caching allocator on CUDA behaves so;
// on CPU, glibc maps blocks above 32 MiB afresh, and faulting a layer's
// pages in at every gather cost more than the gather).
constexpr std::size_t kSpareBuffers = 2;

void allocate_storage(const torch::Tensor& buffer, SpareMemory& spare) {
  c10::StorageImpl* storage = buffer.storage().unsafeGetStorageImpl();
  const std::size_t bytes = buffer_bytes(buffer);
  auto it = std::find_if(spare.begin(), spare.end(), [&](const auto& s) { return s.first == bytes; });
  if (it != spare.end()) {
    storage->set_data_ptr_noswap(std::move(it->second));
    spare.erase(it);
  } else {
    storage->set_data_ptr_noswap(storage->allocator()->allocate(bytes));
  }
  storage->set_nbytes(bytes);
}

void release_storage(const torch::Tensor& buffer, SpareMemory* spare) {
  c10::StorageImpl* storage = buffer.storage().unsafeGetStorageImpl();
  at::DataPtr memory = storage->set_data_ptr(at::DataPtr(nullptr, buffer.device()));
  storage->set_nbytes(0);
  if (!spare || !memory.get()) return;
  spare->emplace_back(buffer_bytes(buffer), std::move(memory));
  if (spare->size() > kSpareBuffers) spare->erase(spare->begin());  // the oldest is freed
}

// A tensor over `buffer`'s whole storage with a version counter of its own:
// writing through it leaves the parameters' versions, which autograd checked
// the saved values against, as they were.
torch::Tensor writable_alias(const torch::Tensor& buffer) {
  return torch::empty({0}, buffer.options()).set_(buffer.storage(), 0, {buffer.numel()}, {1});
}

}  // namespace

ShardedParameters::ShardedParameters(std::vector<FlatParameter> parameters, torch::Tensor shard,
                                     const std::vector<std::shared_ptr<torch::nn::Module>>& units,
                                     c10::intrusive_ptr<CollectiveGroup> group, std::shared_ptr<CollectiveWatch> watch)
    : group_(std::move(group)), watch_(std::move(watch)), shard_(std::move(shard)) {
  torch::NoGradGuard no_grad;
  // Which unit each parameter belongs to; one in several units (a tied
  // weight) belongs to the root, which stays gathered through the step.
  constexpr std::size_t kRoot = static_cast<std::size_t>(-1);
  std::map<const c10::TensorImpl*, std::size_t> owner;
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (!units[u]) throw Error("zero3: sharding unit " + std::to_string(u) + " is a null module");
    index_[units[u].get()] = u;
    std::set<const c10::TensorImpl*> seen;
    for (const torch::Tensor& p : units[u]->parameters()) {
      const c10::TensorImpl* impl = p.unsafeGetTensorImpl();
      if (!seen.insert(impl).second) continue;
      auto [it, fresh] = owner.emplace(impl, u);
      if (!fresh) it->second = kRoot;
    }
  }
  for (std::size_t u = 0; u <= units.size(); ++u) {
    units_.push_back(std::make_unique<Unit>());
    units_.back()->name = u < units.size() ? "sharding unit " + std::to_string(u) + " (" + units[u]->name() + ")"
                                           : std::string("the parameters outside the sharding units");
  }
  for (FlatParameter& p : parameters) {
    auto it = owner.find(p.parameter.unsafeGetTensorImpl());
    units_[it == owner.end() || it->second == kRoot ? units.size() : it->second]->params.push_back(p);
  }
  for (auto& unit : units_) {
    std::sort(unit->params.begin(), unit->params.end(),
              [](const FlatParameter& a, const FlatParameter& b) { return a.offset < b.offset; });
    std::int64_t total = 0;
    for (const FlatParameter& p : unit->params) {
      const std::int64_t end = p.offset + p.parameter.numel();
      if (!unit->runs.empty() && unit->runs.back().second == p.offset) {
        unit->runs.back().second = end;
      } else {
        unit->runs.emplace_back(p.offset, end);
      }
      total += p.parameter.numel();
    }
    unit->buffer = torch::empty({total}, shard_.options().requires_grad(false));
    // Each parameter becomes a view of the buffer, at its place in the runs,
    // keeping its autograd identity (as ZeRO-1/2's flat buffer does) and its
    // value, gathered as it were until the shards take it below.
    std::int64_t at = 0;
    for (std::size_t k = 0; k < unit->params.size(); ++k) {
      torch::Tensor param = unit->params[k].parameter;
      torch::Tensor view = unit->buffer.narrow(0, at, param.numel()).view(param.sizes());
      view.copy_(param);
      param.set_data(view);
      at += param.numel();
    }
    unit->gathered = true;
  }
  // A unit's parameters are done with once each has its gradient: backward
  // has then run every operation that read them.
  for (std::size_t u = 0; u + 1 < units_.size(); ++u) {
    for (const FlatParameter& p : units_[u]->params) {
      torch::Tensor param = p.parameter;
      const unsigned handle = param.register_hook([this, u](const torch::Tensor&) {
        Unit& unit = *units_[u];
        if (unit.gradients_pending > 0 && --unit.gradients_pending == 0) release(unit);
      });
      units_[u]->hooks.emplace_back(param, handle);
    }
  }
  release_all(/*writeback=*/true);  // this rank's shard takes its part of the values
  // The whole model's memory goes back to the allocator; only the steps'
  // own gathers keep some for reuse.
  spare_.clear();
}

ShardedParameters::~ShardedParameters() {
  for (auto& unit : units_)
    for (auto& [param, handle] : unit->hooks) param.remove_hook(handle);
}

ShardedParameters::Unit& ShardedParameters::unit_of(torch::nn::Module& module) {
  auto it = index_.find(&module);
  if (it == index_.end())
    throw Error("zero3: run_unit was given " + module.name() +
                ", which is not one of the network's sharding_units(); list every module run through run_unit there");
  return *units_[it->second];
}

void ShardedParameters::gather(Unit& unit) {
  if (unit.gathered || unit.params.empty()) return;
  torch::NoGradGuard no_grad;
  allocate_storage(unit.buffer, spare_);
  torch::Tensor buffer = writable_alias(unit.buffer);
  const std::int64_t shard_numel = shard_.numel();
  const int rank = group_->getRank();
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  std::vector<int> roots;
  std::int64_t at = 0;
  // Each run arrives as one broadcast from every rank whose shard it
  // crosses: all-gather's bytes, straight into the buffer.
  for (auto [start, end] : unit.runs) {
    for (int r = static_cast<int>(start / shard_numel); r * shard_numel < end; ++r) {
      const auto [offset, length] = shard_overlap(start, end - start, r, shard_numel);
      std::vector<torch::Tensor> piece{buffer.narrow(0, at + offset, length)};
      if (r == rank) piece.front().copy_(shard_.narrow(0, start + offset - r * shard_numel, length));
      c10d::BroadcastOptions from;
      from.rootRank = r;
      works.push_back(group_->broadcast(piece, from));
      roots.push_back(r);
    }
    at += end - start;
    bytes_gathered_ += static_cast<std::size_t>(end - start) * shard_.element_size();
  }
  for (std::size_t w = 0; w < works.size(); ++w)
    watch_->wait(works[w],
                 "all-gather of " + unit.name + "'s parameters (rank " + std::to_string(roots[w]) + "'s part)");
  unit.gathered = true;
}

void ShardedParameters::release(Unit& unit) {
  if (!unit.gathered) return;
  release_storage(unit.buffer, &spare_);
  unit.gathered = false;
}

void ShardedParameters::before_forward(torch::nn::Module& module) { gather(unit_of(module)); }

torch::Tensor ShardedParameters::after_forward(torch::nn::Module& module, torch::Tensor output) {
  Unit& unit = unit_of(module);
  if (output.requires_grad()) {
    // Backward reaches the unit through its output: gather first.
    unit.gradients_pending = unit.params.size();
    Unit* target = &unit;
    output.register_hook([this, target](const torch::Tensor&) { gather(*target); });
  }
  release(unit);
  return output;
}

void ShardedParameters::gather_root() { gather(*units_.back()); }

void ShardedParameters::gather_all() {
  for (auto& unit : units_) gather(*unit);
}

void ShardedParameters::release_all(bool writeback) {
  torch::NoGradGuard no_grad;
  const std::int64_t shard_numel = shard_.numel();
  const int rank = group_->getRank();
  for (auto& unit : units_) {
    if (writeback && unit->gathered) {
      torch::Tensor buffer = writable_alias(unit->buffer);
      std::int64_t at = 0;
      for (auto [start, end] : unit->runs) {
        const auto [offset, length] = shard_overlap(start, end - start, rank, shard_numel);
        if (length > 0)
          shard_.narrow(0, start + offset - rank * shard_numel, length).copy_(buffer.narrow(0, at + offset, length));
        at += end - start;
      }
    }
    unit->gradients_pending = 0;
    release(*unit);
  }
}

std::size_t ShardedParameters::spare_bytes() const {
  std::size_t bytes = 0;
  for (const auto& [size, memory] : spare_) bytes += size;
  return bytes;
}

std::size_t ShardedParameters::take_bytes_gathered() {
  const std::size_t bytes = bytes_gathered_;
  bytes_gathered_ = 0;
  return bytes;
}

}  // namespace kiln::dist
