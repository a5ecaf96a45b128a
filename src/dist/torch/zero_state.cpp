// ZeroOptimizer's sharded optimizer state: gathered for a checkpoint, and
// restored on the same or another number of ranks.
#include <algorithm>
#include <map>
#include <sstream>

#include "elementwise_state.h"
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
  // Each old shard's archive loads into an optimizer of the run's kind over
  // a tensor of the old shard's length; their states, end to end, are the
  // state of the whole flat space, of which this rank takes its slice.
  std::map<std::string, std::vector<torch::Tensor>> pieces;
  std::int64_t step = 0;
  for (const std::string& bytes : shards) {
    torch::Tensor stand_in = torch::zeros({shard_numel_then}, shard_.options().requires_grad(true));
    std::shared_ptr<torch::optim::Optimizer> old = factory_({stand_in});
    std::istringstream archive(bytes);
    torch::load(*old, archive);
    ElementwiseState state = read_state(*old, stand_in);
    for (auto& [name, tensor] : state.tensors) pieces[name].push_back(tensor.flatten());
    step = std::max(step, state.step);
  }
  ElementwiseState mine;
  mine.step = step;
  const std::int64_t end_then = static_cast<std::int64_t>(shards.size()) * shard_numel_then;
  for (auto& [name, parts] : pieces) {
    if (parts.size() != shards.size()) cannot_reshard();
    torch::Tensor whole = torch::cat(parts);
    torch::Tensor slice = torch::zeros({shard_numel()}, whole.options());
    const std::int64_t from = shard_start(), to = std::min(shard_start() + shard_numel(), end_then);
    if (to > from) slice.narrow(0, 0, to - from).copy_(whole.narrow(0, from, to - from));
    mine.tensors[name] = slice;
  }
  write_state(*optimizer_, shard_, mine);
}

}  // namespace kiln::dist
