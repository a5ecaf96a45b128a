// ZeroOptimizer's sharded optimizer state: gathered for a checkpoint, and
// restored on the same or another number of ranks.
#include <algorithm>
#include <map>
#include <sstream>

#include "kiln/dist/elementwise_state.h"
#include "kiln/dist/zero.h"
#include "kiln/error.h"
#include "kiln/optimizer_state_key.h"

namespace kiln::dist {
namespace {

[[noreturn]] void cannot_reshard() {
  throw Error(
      "zero: this checkpoint was written by another number of ranks, and only SGD, Adam and AdamW state can be "
      "resharded; resume it with the rank count that wrote it");
}

ElementwiseState read_state(torch::optim::Optimizer& optimizer, const torch::Tensor& param) {
  auto it = optimizer.state().find(optimizer_state_key(param));
  if (it == optimizer.state().end()) return {};  // never stepped
  std::optional<ElementwiseState> state = elementwise_state(*it->second);
  if (!state) cannot_reshard();
  return *state;
}

void write_state(torch::optim::Optimizer& optimizer, const torch::Tensor& param, const ElementwiseState& state) {
  if (state.tensors.empty()) return;
  std::unique_ptr<torch::optim::OptimizerParamState> made = make_param_state(optimizer, state);
  if (!made) cannot_reshard();
  optimizer.state()[optimizer_state_key(param)] = std::move(made);
}

// The state of the whole flat space (shards.size() * shard_numel_then
// elements) from the per-rank archives of a ZeRO run: each archive loads
// into an optimizer of the run's kind over a stand-in of its shard's length,
// and the shards' states are laid end to end.
ElementwiseState flat_state_of(const std::vector<std::string>& shards, std::int64_t shard_numel_then,
                               const ZeroOptimizer::Factory& factory, const torch::TensorOptions& options) {
  std::map<std::string, std::vector<torch::Tensor>> pieces;
  ElementwiseState whole;
  for (const std::string& bytes : shards) {
    torch::Tensor stand_in = torch::zeros({shard_numel_then}, options.requires_grad(true));
    std::shared_ptr<torch::optim::Optimizer> old = factory({stand_in});
    std::istringstream archive(bytes);
    torch::load(*old, archive);
    ElementwiseState state = read_state(*old, stand_in);
    for (auto& [name, tensor] : state.tensors) pieces[name].push_back(tensor.flatten());
    whole.step = std::max(whole.step, state.step);
  }
  for (auto& [name, parts] : pieces) {
    if (parts.size() != shards.size()) cannot_reshard();
    whole.tensors[name] = torch::cat(parts);
  }
  return whole;
}

}  // namespace

std::vector<std::string> ZeroOptimizer::gather_optimizer_states() {
  std::ostringstream archive;
  torch::save(*optimizer_, archive);
  const std::string mine = archive.str();
  // Lengths first, so every rank pads its bytes to the longest.
  std::vector<std::vector<torch::Tensor>> lengths(1);
  for (int r = 0; r < world_; ++r) lengths[0].push_back(torch::zeros({1}, torch::kInt64));
  std::vector<torch::Tensor> my_length{torch::full({1}, static_cast<std::int64_t>(mine.size()), torch::kInt64)};
  sync_.watch()->wait(group_->allgather(lengths, my_length), "all-gather of the optimizer states' lengths");
  std::int64_t longest = 0;
  for (const auto& l : lengths[0]) longest = std::max(longest, l.item<std::int64_t>());
  torch::Tensor padded = torch::zeros({longest}, torch::kUInt8);
  std::copy(mine.begin(), mine.end(), padded.data_ptr<std::uint8_t>());
  std::vector<std::vector<torch::Tensor>> gathered(rank_ == 0 ? 1 : 0);
  if (rank_ == 0)
    for (int r = 0; r < world_; ++r) gathered[0].push_back(torch::zeros({longest}, torch::kUInt8));
  std::vector<torch::Tensor> input{padded};
  c10d::GatherOptions options;
  options.rootRank = 0;
  sync_.watch()->wait(group_->gather(gathered, input, options), "gather of the optimizer shards for a checkpoint");
  std::vector<std::string> out;
  if (rank_ != 0) return out;
  for (int r = 0; r < world_; ++r) {
    const auto* bytes = gathered[0][static_cast<std::size_t>(r)].data_ptr<std::uint8_t>();
    out.emplace_back(reinterpret_cast<const char*>(bytes),
                     static_cast<std::size_t>(lengths[0][static_cast<std::size_t>(r)].item<std::int64_t>()));
  }
  return out;
}

void ZeroOptimizer::load_optimizer_states(const std::vector<std::string>& shards, std::int64_t shard_numel_then) {
  if (static_cast<int>(shards.size()) == world_ && shard_numel_then == shard_numel()) {
    std::istringstream archive(shards[static_cast<std::size_t>(rank_)]);
    torch::load(*optimizer_, archive);
    return;
  }
  const ElementwiseState whole = flat_state_of(shards, shard_numel_then, factory_, shard_.options());
  ElementwiseState mine;
  mine.step = whole.step;
  const std::int64_t end_then = static_cast<std::int64_t>(shards.size()) * shard_numel_then;
  for (const auto& [name, flat] : whole.tensors) {
    torch::Tensor slice = torch::zeros({shard_numel()}, flat.options());
    const std::int64_t from = shard_start(), to = std::min(shard_start() + shard_numel(), end_then);
    if (to > from) slice.narrow(0, 0, to - from).copy_(flat.narrow(0, from, to - from));
    mine.tensors[name] = slice;
  }
  write_state(*optimizer_, shard_, mine);
}

void ZeroOptimizer::load_whole_optimizer_state(torch::optim::Optimizer& whole,
                                               const std::vector<torch::Tensor>& params) {
  const std::vector<torch::Tensor>& mine = sync_.parameters();
  if (params.size() != mine.size())
    throw Error("zero: the optimizer state is of " + std::to_string(params.size()) +
                " trainable parameters, this model has " + std::to_string(mine.size()) + " (another model?)");
  // Each parameter's state laid into the flat space at its offset, then
  // this rank's slice of it.
  std::map<std::string, torch::Tensor> flat;
  ElementwiseState sliced;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].numel() != mine[i].numel())
      throw Error("zero: parameter " + std::to_string(i) + " of the optimizer state has " +
                  std::to_string(params[i].numel()) + " elements, this model's " + std::to_string(mine[i].numel()) +
                  " (another model?)");
    ElementwiseState state = read_state(whole, params[i]);
    sliced.step = std::max(sliced.step, state.step);
    for (const auto& [name, tensor] : state.tensors) {
      torch::Tensor& space = flat[name];
      if (!space.defined()) space = torch::zeros({world_ * sync_.shard_numel()}, tensor.options());
      space.narrow(0, sync_.flat_offset(i), tensor.numel()).copy_(tensor.flatten());
    }
  }
  for (const auto& [name, space] : flat) sliced.tensors[name] = space.narrow(0, shard_start(), shard_numel()).clone();
  write_state(*optimizer_, shard_, sliced);
}

void load_zero_shards_into_whole(torch::optim::Optimizer& optimizer, const std::vector<FlatPlacement>& placements,
                                 const std::vector<std::string>& shards, std::int64_t shard_numel,
                                 const ZeroOptimizer::Factory& factory) {
  if (placements.empty()) return;
  const torch::Tensor& first = placements.front().parameter;
  const ElementwiseState whole =
      flat_state_of(shards, shard_numel, factory, torch::TensorOptions().dtype(first.dtype()).device(first.device()));
  const std::int64_t end = static_cast<std::int64_t>(shards.size()) * shard_numel;
  for (const FlatPlacement& place : placements) {
    const std::int64_t numel = place.parameter.numel();
    if (place.offset < 0 || place.offset + numel > end)
      throw Error("zero: a parameter of " + std::to_string(numel) + " elements at offset " +
                  std::to_string(place.offset) + " lies outside the checkpoint's flat space of " + std::to_string(end) +
                  " elements (another model?)");
    ElementwiseState state;
    state.step = whole.step;
    for (const auto& [name, flat] : whole.tensors)
      state.tensors[name] = flat.narrow(0, place.offset, numel).view(place.parameter.sizes()).clone();
    write_state(optimizer, place.parameter, state);
  }
}

}  // namespace kiln::dist
