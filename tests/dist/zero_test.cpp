// ZeRO stages 1, 2 and 3 over real Gloo between real forked processes: N ranks
// with batch B end with the parameters of one process with batch N * B
// (within float tolerance: the gradient sums run in another order), every
// rank holds the same parameters, each rank's model states take the bytes
// the ZeRO paper's formulas give, and a sharded optimizer state saved on N
// ranks resumes on M.
#include "kiln/dist/zero.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "forked_ranks.h"
#include "kiln/dist/process_group.h"
#include "kiln/error.h"
#include "support/temp_dir.h"

namespace kiln::dist {
namespace {

namespace fs = std::filesystem;
using test_support::flat_parameters;
using test_support::make_model;
using test_support::model_numel;

constexpr double kClipNorm = 0.5;
// Every run draws the same data, whatever steps it takes of it.
constexpr std::int64_t kGlobalBatch = 16, kMaxSteps = 20;

std::shared_ptr<torch::optim::Optimizer> adamw(std::vector<torch::Tensor> params) {
  return std::make_shared<torch::optim::AdamW>(std::move(params), torch::optim::AdamWOptions(0.01).weight_decay(0.1));
}

struct Plan {
  int world_size = 2;
  int stage = 1;
  int steps = 20;
  int first_step = 0;  // > 0: continue from the states in `resume_dir`
  std::size_t bucket_bytes = 25u << 20;
  bool clip = false;
  int micro = 1;      // micro-batches per step, all but the last under no_sync
  bool units = true;  // stage 3: the layers as units (else every parameter is the root's)
  fs::path out;
  fs::path resume_dir;        // optimizer.rank<R>.pt + shard_numel of an earlier run
  bool resume_whole = false;  // resume_dir holds optimizer.pt of a run without ZeRO instead
  std::int64_t global_batch() const { return kGlobalBatch; }
};

void write_text(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream all;
  all << in.rdbuf();
  return all.str();
}

// One rank of `plan`. The global batch is always 16 rows, cut into
// world_size slices, so runs on 2 and 4 ranks see the same data.
void train_rank(int rank, int port, const Plan& plan) {
  DistributedContext context =
      init_process_group(test_support::loopback_world(rank, plan.world_size, port), {std::chrono::seconds(60)});
  // The broadcast makes every rank's parameters rank 0's.
  auto model = std::make_shared<test_support::LayeredModel>(1000 + static_cast<std::uint64_t>(rank));
  ZeroOptions options{plan.stage, plan.bucket_bytes};
  if (plan.stage == 3 && plan.units) options.units = model->sharding_units();
  ZeroOptimizer zero(*model, context.group, adamw, options);
  zero.broadcast_from_rank_zero();
  if (plan.units) model->set_unit_hooks(zero.unit_hooks());
  if (plan.first_step > 0) {
    torch::Tensor weights;
    torch::load(weights, (plan.resume_dir / "weights.pt").string());
    // Stage 3: loaded into the gathered parameters, then cut into the shards.
    FullParameters whole_model = zero.summon_full_params(/*writeback=*/true);
    torch::NoGradGuard no_grad;
    std::int64_t at = 0;
    for (auto& p : model->parameters()) {
      p.copy_(weights.narrow(0, at, p.numel()).view(p.sizes()));
      at += p.numel();
    }
    if (plan.resume_whole) {
      // The optimizer archive of one process: loaded into an AdamW over
      // stand-ins of the parameters, then sliced into this rank's shard.
      std::vector<torch::Tensor> stand_ins;
      for (auto& p : model->parameters()) stand_ins.push_back(torch::zeros_like(p).requires_grad_(true));
      auto whole = adamw(stand_ins);
      torch::load(*whole, (plan.resume_dir / "optimizer.pt").string());
      zero.load_whole_optimizer_state(*whole, stand_ins);
    } else {
      std::vector<std::string> shards;
      for (int r = 0; fs::exists(plan.resume_dir / ("optimizer.rank" + std::to_string(r) + ".pt")); ++r)
        shards.push_back(read_text(plan.resume_dir / ("optimizer.rank" + std::to_string(r) + ".pt")));
      zero.load_optimizer_states(shards, std::stoll(read_text(plan.resume_dir / "shard_numel")));
    }
  }
  const std::int64_t per_rank = plan.global_batch() / plan.world_size;
  auto [x, y] = test_support::regression_data(kGlobalBatch * kMaxSteps);
  ModelStateBytes after_sync;
  for (int step = plan.first_step; step < plan.first_step + plan.steps; ++step) {
    const std::int64_t start = step * plan.global_batch() + rank * per_rank;
    const std::int64_t rows = per_rank / plan.micro;
    for (int m = 0; m < plan.micro; ++m) {
      zero.set_sync(m == plan.micro - 1);
      zero.gather_root_parameters();
      const std::int64_t at = start + m * rows;
      (torch::mse_loss(model->forward(x.narrow(0, at, rows)), y.narrow(0, at, rows)) / plan.micro).backward();
    }
    zero.finish_gradient_sync();
    if (plan.clip) zero.clip_grad_norm_(kClipNorm);
    if (step == plan.first_step + 1) after_sync = zero.model_state_bytes();  // the moments exist from step 1
    zero.optimizer().step();
    zero.all_gather_parameters();
    zero.optimizer().zero_grad();
  }
  const std::string tag = std::to_string(rank);
  {
    FullParameters whole_model = zero.summon_full_params();
    torch::save(flat_parameters(*model), (plan.out / ("weights" + tag + ".pt")).string());
  }
  std::vector<std::string> states = zero.gather_optimizer_states();
  for (std::size_t r = 0; r < states.size(); ++r)
    write_text(plan.out / ("optimizer.rank" + std::to_string(r) + ".pt"), states[r]);
  if (rank == 0) {
    write_text(plan.out / "shard_numel", std::to_string(zero.shard_numel()));
    std::string offsets;
    for (std::size_t i = 0; i < zero.gradient_sync().parameters().size(); ++i)
      offsets += std::to_string(zero.gradient_sync().flat_offset(i)) + " ";
    write_text(plan.out / "offsets", offsets);
  }
  std::FILE* f = std::fopen((plan.out / ("bytes" + tag)).c_str(), "w");
  std::fprintf(f, "%lld %lld %lld %zu %zu %lld\n", static_cast<long long>(after_sync.parameters),
               static_cast<long long>(after_sync.gradients), static_cast<long long>(after_sync.optimizer),
               zero.gradient_sync().bytes_reduced(), zero.bytes_gathered(),
               static_cast<long long>(zero.gradient_sync().bucket_buffer_bytes()));
  std::fclose(f);
}

void run(const Plan& plan) {
  std::vector<int> codes =
      test_support::run_forked_ranks(plan.world_size, [&](int rank, int port) { train_rank(rank, port, plan); });
  for (int rank = 0; rank < plan.world_size; ++rank)
    ASSERT_EQ(codes[static_cast<std::size_t>(rank)], 0) << "rank " << rank;
}

// One process, the whole global batch, plain AdamW over the module: steps
// [first_step, first_step + steps), by default from the start; `prepare`
// may load weights and optimizer state first; `save_to` keeps the weights
// and optimizer archive at the end.
torch::Tensor train_alone(int steps, bool clip, int first_step = 0,
                          const std::function<void(torch::nn::Module&, torch::optim::Optimizer&)>& prepare = {},
                          const fs::path& save_to = {}) {
  auto model = make_model(1000);
  auto optimizer = adamw(model->parameters());
  if (prepare) prepare(*model, *optimizer);
  auto [x, y] = test_support::regression_data(kGlobalBatch * kMaxSteps);
  for (int step = first_step; step < first_step + steps; ++step) {
    optimizer->zero_grad();
    torch::mse_loss(model->forward(x.narrow(0, step * kGlobalBatch, kGlobalBatch)),
                    y.narrow(0, step * kGlobalBatch, kGlobalBatch))
        .backward();
    if (clip) torch::nn::utils::clip_grad_norm_(model->parameters(), kClipNorm);
    optimizer->step();
  }
  if (!save_to.empty()) {
    torch::save(flat_parameters(*model), (save_to / "weights.pt").string());
    torch::save(*optimizer, (save_to / "optimizer.pt").string());
  }
  return flat_parameters(*model);
}

void load_flat_weights(torch::nn::Module& model, const torch::Tensor& weights) {
  torch::NoGradGuard no_grad;
  std::int64_t at = 0;
  for (auto& p : model.parameters()) {
    p.copy_(weights.narrow(0, at, p.numel()).view(p.sizes()));
    at += p.numel();
  }
}

torch::Tensor load_tensor(const fs::path& path) {
  torch::Tensor t;
  torch::load(t, path.string());
  return t;
}

void expect_matches_one_process(const Plan& plan, int total_steps) {
  torch::Tensor rank0 = load_tensor(plan.out / "weights0.pt");
  for (int rank = 1; rank < plan.world_size; ++rank)
    EXPECT_TRUE(torch::equal(rank0, load_tensor(plan.out / ("weights" + std::to_string(rank) + ".pt"))))
        << "rank " << rank << " holds other parameters than rank 0";
  torch::Tensor alone = train_alone(total_steps, plan.clip);
  // AdamW in float32: sums in another order differ by rounding, which
  // Adam's normalisation can lift to ~1e-6 over these steps; the parameters
  // themselves move by more than 1e-1.
  EXPECT_LT((rank0 - alone).abs().max().item<double>(), 2e-5)
      << plan.world_size << " ranks, stage " << plan.stage << (plan.clip ? ", clipped" : "");
  EXPECT_GT((alone - flat_parameters(*make_model(1000))).abs().max().item<double>(), 1e-1);
}

// `plan` run from the start into a fresh directory, against one process.
void expect_run_matches_one_process(Plan plan) {
  testing::TempDir dir;
  plan.out = dir.path();
  run(plan);
  expect_matches_one_process(plan, plan.steps);
}

TEST(Zero, StageOneOnTwoRanksMatchesOneProcess) { expect_run_matches_one_process(Plan{.world_size = 2, .stage = 1}); }

TEST(Zero, StageOneOnFourRanksMatchesOneProcess) { expect_run_matches_one_process(Plan{.world_size = 4, .stage = 1}); }

TEST(Zero, StageTwoOnFourRanksWithSmallBucketsMatchesOneProcess) {
  // 512-byte buckets: many reductions during backward, each cut across shards.
  expect_run_matches_one_process(Plan{.world_size = 4, .stage = 2, .bucket_bytes = 512});
}

// Stage 3: each Linear layer gathered just before its forward and its
// backward, and released after each.
TEST(Zero, StageThreeOnTwoRanksMatchesOneProcess) { expect_run_matches_one_process(Plan{.world_size = 2, .stage = 3}); }

TEST(Zero, StageThreeOnFourRanksWithSmallBucketsMatchesOneProcess) {
  // 4 ranks cut even the first layer (12 x 32 + 32 elements of 1,509) across shards.
  expect_run_matches_one_process(Plan{.world_size = 4, .stage = 3, .bucket_bytes = 512});
}

// Two micro-batches per step, the first under no_sync: stage 3 releases each
// layer after each micro-batch's backward and keeps the local gradients
// until the synced one.
TEST(Zero, StageThreeAccumulatesMicroBatchesAsOneProcess) {
  expect_run_matches_one_process(Plan{.world_size = 2, .stage = 3, .micro = 2});
}

// A model that names no units (a Module of plain layers): every parameter is
// the root's, gathered from the step's first forward to its gradient sync.
TEST(Zero, StageThreeWithoutUnitsGathersTheWholeModelForTheStep) {
  expect_run_matches_one_process(Plan{.world_size = 2, .stage = 3, .units = false});
}

TEST(Zero, StageThreeClipsWithTheWholeModelsNorm) {
  expect_run_matches_one_process(Plan{.world_size = 2, .stage = 3, .clip = true});
}

TEST(Zero, GradientClippingUsesTheWholeModelsNorm) {
  expect_run_matches_one_process(Plan{.world_size = 2, .stage = 2, .clip = true});
}

// Model states per rank, measured from the tensors each rank holds, against
// ZeRO's formulas for fp32 Adam: 4 bytes of weights, 4 of gradient, 8 of
// moments; stage 1: 8Ψ + 12Ψ/N, stage 2: 4Ψ + 12Ψ/N, stage 3: 16Ψ/N. The
// bytes each rank gathers per step: Ψ (stages 1, 2: after the step), 2Ψ
// (stage 3: every layer before its forward and again before its backward).
TEST(Zero, ModelStateBytesFollowThePapersFormulas) {
  const std::int64_t psi = model_numel();
  for (int stage : {1, 2, 3}) {
    testing::TempDir dir;
    Plan plan{.world_size = 4, .stage = stage, .steps = 3, .out = dir.path()};
    run(plan);
    const std::int64_t shard = (psi + 3) / 4;
    for (int rank = 0; rank < 4; ++rank) {
      long long params = 0, grads = 0, optimizer = 0, buckets = -1;
      std::size_t reduced = 0, gathered = 0;
      std::FILE* f = std::fopen((dir.path() / ("bytes" + std::to_string(rank))).c_str(), "r");
      ASSERT_NE(f, nullptr);
      ASSERT_EQ(
          std::fscanf(f, "%lld %lld %lld %zu %zu %lld", &params, &grads, &optimizer, &reduced, &gathered, &buckets), 6);
      std::fclose(f);
      // Stages 1, 2: the flat buffer, Ψ padded to 4 shards; stage 3: the shard.
      EXPECT_EQ(params, stage == 3 ? 4 * shard : 4 * shard * 4) << "stage " << stage << " rank " << rank;
      // Stage 1 keeps every local gradient until the step, stages 2 and 3 only the shard.
      EXPECT_EQ(grads, stage == 1 ? 4 * psi + 4 * shard : 4 * shard) << "stage " << stage << " rank " << rank;
      EXPECT_EQ(optimizer, 8 * shard) << "Adam's two moments for the shard only";
      EXPECT_EQ(reduced, static_cast<std::size_t>(4 * psi)) << "every gradient reduced once: Ψ";
      EXPECT_EQ(gathered, static_cast<std::size_t>(stage == 3 ? 2 * 4 * psi : 4 * 4 * shard))
          << "stage " << stage << ": Ψ (padded) after the step, or 2Ψ during it";
      EXPECT_EQ(buckets, 0) << "no gradient bucket is kept between steps";
    }
  }
}

// Steps 0-9 on 2 ranks, then steps 10-19 on 4 ranks from the 2 ranks' weights
// and optimizer shards: the same parameters as 20 steps in one process.
TEST(Zero, OptimizerShardsSavedOnTwoRanksResumeOnFour) {
  testing::TempDir first, second;
  Plan two{.world_size = 2, .stage = 2, .steps = 10, .out = first.path()};
  run(two);
  fs::copy_file(first.path() / "weights0.pt", first.path() / "weights.pt");
  Plan four{
      .world_size = 4, .stage = 2, .steps = 10, .first_step = 10, .out = second.path(), .resume_dir = first.path()};
  run(four);
  expect_matches_one_process(four, 20);
}

// The same across stages: ZeRO-2 on 2 ranks, then ZeRO-3 on 4 (its weights
// loaded through summon_full_params' writeback into the shards).
TEST(Zero, ZeroTwoOnTwoRanksResumesAsZeroThreeOnFour) {
  testing::TempDir first, second;
  run(Plan{.world_size = 2, .stage = 2, .steps = 10, .out = first.path()});
  fs::copy_file(first.path() / "weights0.pt", first.path() / "weights.pt");
  Plan four{
      .world_size = 4, .stage = 3, .steps = 10, .first_step = 10, .out = second.path(), .resume_dir = first.path()};
  run(four);
  expect_matches_one_process(four, 20);
}

// Steps 0-9 under ZeRO-2 on 2 ranks, steps 10-19 in one process without
// ZeRO from the shards (cut per parameter at the recorded offsets): the same
// parameters as 20 steps in one process.
TEST(Zero, OptimizerShardsResumeWithoutZero) {
  testing::TempDir first;
  run(Plan{.world_size = 2, .stage = 2, .steps = 10, .out = first.path()});
  std::vector<std::string> shards{read_text(first.path() / "optimizer.rank0.pt"),
                                  read_text(first.path() / "optimizer.rank1.pt")};
  std::istringstream offsets(read_text(first.path() / "offsets"));
  torch::Tensor resumed = train_alone(10, false, 10, [&](torch::nn::Module& model, torch::optim::Optimizer& opt) {
    load_flat_weights(model, load_tensor(first.path() / "weights0.pt"));
    std::vector<FlatPlacement> placements;
    for (auto& p : model.parameters()) {
      std::int64_t offset = 0;
      offsets >> offset;
      placements.push_back({p, offset});
    }
    load_zero_shards_into_whole(opt, placements, shards, std::stoll(read_text(first.path() / "shard_numel")), adamw);
  });
  EXPECT_LT((resumed - train_alone(20, false)).abs().max().item<double>(), 2e-5);
  // Without the optimizer state the moments start again: a visibly other result.
  torch::Tensor cold = train_alone(10, false, 10, [&](torch::nn::Module& model, torch::optim::Optimizer&) {
    load_flat_weights(model, load_tensor(first.path() / "weights0.pt"));
  });
  EXPECT_GT((cold - train_alone(20, false)).abs().max().item<double>(), 1e-3);
}

// Steps 0-9 in one process without ZeRO, steps 10-19 under ZeRO-1 on 2 ranks
// from its optimizer archive: the same parameters as 20 steps in one process.
TEST(Zero, AnOptimizerWithoutZeroResumesSharded) {
  testing::TempDir first, second;
  train_alone(10, false, 0, {}, first.path());
  Plan two{.world_size = 2,
           .stage = 1,
           .steps = 10,
           .first_step = 10,
           .out = second.path(),
           .resume_dir = first.path(),
           .resume_whole = true};
  run(two);
  expect_matches_one_process(two, 20);
}

TEST(Zero, AnOptimizerWithParameterGroupsIsRefusedNamingTheOption) {
  std::vector<int> codes = test_support::run_forked_ranks(2, [](int rank, int port) {
    DistributedContext context =
        init_process_group(test_support::loopback_world(rank, 2, port), {std::chrono::seconds(60)});
    auto model = make_model(1);
    auto grouped = [](std::vector<torch::Tensor> params) -> std::shared_ptr<torch::optim::Optimizer> {
      std::vector<torch::optim::OptimizerParamGroup> groups;
      groups.emplace_back(params);
      groups.emplace_back(std::vector<torch::Tensor>{});
      return std::make_shared<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(0.01));
    };
    try {
      ZeroOptimizer zero(*model, context.group, grouped, {1});
    } catch (const Error& e) {
      // The rank exits 0 only for the right error.
      if (std::string(e.what()).find("2 groups (optimizer.weight_decay_1d: false does)") != std::string::npos) return;
      throw;
    }
    throw std::runtime_error("an optimizer with two parameter groups was accepted");
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

TEST(Zero, AStageOtherThanOneToThreeIsRefusedByName) {
  auto model = make_model(1);
  // No group is needed to refuse: the options are checked first.
  try {
    ZeroOptimizer zero(*model, c10::intrusive_ptr<CollectiveGroup>(), adamw, {4});
    FAIL() << "stage 4 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stage 4 does not exist"), std::string::npos) << e.what();
  }
}

// Outside its layer's forward and backward a stage-3 parameter holds no
// memory (its shapes stay, for autograd); summon_full_params gives it its
// value for a while.
TEST(Zero, AStageThreeParameterIsReleasedOutsideItsLayer) {
  std::vector<int> codes = test_support::run_forked_ranks(2, [](int rank, int port) {
    DistributedContext context =
        init_process_group(test_support::loopback_world(rank, 2, port), {std::chrono::seconds(60)});
    auto model = std::make_shared<test_support::LayeredModel>(1);
    ZeroOptions options{3};
    options.units = model->sharding_units();
    ZeroOptimizer zero(*model, context.group, adamw, options);
    model->set_unit_hooks(zero.unit_hooks());
    const torch::Tensor weight = model->parameters().front();
    if (weight.storage().nbytes() != 0) throw std::runtime_error("the parameter holds memory between steps");
    if (weight.sizes() != torch::IntArrayRef{test_support::kHidden, test_support::kIn})
      throw std::runtime_error("the released parameter lost its shape");
    {
      FullParameters whole_model = zero.summon_full_params();
      if (weight.storage().nbytes() == 0) throw std::runtime_error("summon_full_params left it released");
      if (!torch::equal(weight, make_model(1)->parameters().front()))
        throw std::runtime_error("the summoned parameter is not the model's first layer");
    }
    if (weight.storage().nbytes() != 0) throw std::runtime_error("the parameter stayed gathered after summoning");
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

// Three units, each a Linear layer that counts the units whose parameters
// hold memory inside its forward and (through a hook on its product, whose
// gradient comes before its own) inside its backward.
struct ProbedLayerImpl : torch::nn::Module {
  ProbedLayerImpl() : linear(register_module("linear", torch::nn::Linear(8, 8))) {}
  torch::Tensor forward(torch::Tensor x) {
    seen_in_forward->push_back(count());
    torch::Tensor product = linear->forward(x);
    product.register_hook([this](const torch::Tensor&) { seen_in_backward->push_back(count()); });
    return torch::tanh(product);
  }
  torch::nn::Linear linear;
  std::function<int()> count;
  std::vector<int>* seen_in_forward = nullptr;
  std::vector<int>* seen_in_backward = nullptr;
};

class ProbedModel final : public models::Network {
 public:
  ProbedModel(std::vector<int>* forward, std::vector<int>* backward) {
    for (int i = 0; i < 3; ++i) {
      auto layer = std::make_shared<ProbedLayerImpl>();
      layer->count = [this] {
        int gathered = 0;
        for (auto& l : layers_) gathered += l->linear->weight.storage().nbytes() > 0;
        return gathered;
      };
      layer->seen_in_forward = forward;
      layer->seen_in_backward = backward;
      layers_.push_back(register_module("layer" + std::to_string(i), layer));
    }
  }
  torch::Tensor forward(const torch::Tensor& input) override {
    torch::Tensor x = input;
    for (auto& layer : layers_) x = run_unit(*layer, [&] { return layer->forward(x); });
    return x;
  }
  std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() override { return {layers_.begin(), layers_.end()}; }

 private:
  std::vector<std::shared_ptr<ProbedLayerImpl>> layers_;
};

TEST(Zero, StageThreeHoldsOneLayerAtATimeInForwardAndBackward) {
  std::vector<int> codes = test_support::run_forked_ranks(2, [](int rank, int port) {
    DistributedContext context =
        init_process_group(test_support::loopback_world(rank, 2, port), {std::chrono::seconds(60)});
    std::vector<int> forward, backward;
    auto model = std::make_shared<ProbedModel>(&forward, &backward);
    ZeroOptions options{3};
    options.units = model->sharding_units();
    ZeroOptimizer zero(*model, context.group, adamw, options);
    model->set_unit_hooks(zero.unit_hooks());
    for (int step = 0; step < 2; ++step) {
      zero.gather_root_parameters();
      model->forward(torch::ones({4, 8})).sum().backward();
      zero.finish_gradient_sync();
      zero.optimizer().step();
      zero.all_gather_parameters();
    }
    if (forward != std::vector<int>(6, 1) || backward != std::vector<int>(6, 1))
      throw std::runtime_error("gathered units seen in forward/backward are not one at a time");
    // Each gather takes the memory the previous layer gave back: between
    // steps one layer's worth is kept, for the next step's first gather.
    const std::size_t layer_bytes = (8 * 8 + 8) * sizeof(float);
    if (zero.spare_unit_bytes() != layer_bytes)
      throw std::runtime_error("spare memory " + std::to_string(zero.spare_unit_bytes()) + " bytes, expected " +
                               std::to_string(layer_bytes));
  });
  EXPECT_EQ(codes, (std::vector<int>{0, 0}));
}

}  // namespace
}  // namespace kiln::dist
