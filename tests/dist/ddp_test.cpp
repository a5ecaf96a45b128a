// DDP over real Gloo between real processes on 127.0.0.1: N forked ranks
// train a small model on their slices of each global batch and must end
// with the parameters of one process training on the whole batch (within
// float tolerance: the all-reduce sums in another order), and identical to
// each other (the all-reduce gives every rank the same bytes).
#include "kiln/dist/ddp.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/dist/launcher.h"
#include "kiln/dist/process_group.h"
#include "kiln/error.h"
#include "support/temp_dir.h"

namespace kiln::dist {
namespace {

namespace fs = std::filesystem;

constexpr int kSteps = 25;
constexpr int kPerRankBatch = 8;
constexpr int kIn = 12, kHidden = 32, kOut = 5;

torch::nn::Sequential make_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(kIn, kHidden), torch::nn::Tanh(), torch::nn::Linear(kHidden, kHidden),
                               torch::nn::Tanh(), torch::nn::Linear(kHidden, kOut));
}

// The data of every step's global batch, the same in every process.
std::pair<torch::Tensor, torch::Tensor> global_data(int world_size) {
  torch::manual_seed(7);
  const std::int64_t rows = static_cast<std::int64_t>(kSteps) * world_size * kPerRankBatch;
  return {torch::randn({rows, kIn}), torch::randn({rows, kOut})};
}

torch::Tensor flat_parameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : model.parameters()) parts.push_back(p.detach().flatten());
  return torch::cat(parts);
}

// One rank: rows [step * G + rank * B, +B) of each global batch of G = N * B,
// in `micro` micro-batches (all but the last under no_sync).
void train_rank(int rank, int world_size, int port, int micro, std::size_t bucket_bytes, const fs::path& out) {
  at::set_num_threads(1);
  World world;
  world.rank = rank;
  world.world_size = world_size;
  world.local_rank = rank;
  world.local_world_size = world_size;
  world.master_port = port;
  DistributedContext context = init_process_group(world, {std::chrono::seconds(60)});
  // Each rank initialises differently: the broadcast must make them rank 0's.
  auto model = make_model(1000 + static_cast<std::uint64_t>(rank));
  GradientSync sync(*model, context.group, {bucket_bytes});
  sync.broadcast_from_rank_zero();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto [x, y] = global_data(world_size);
  const std::int64_t global = static_cast<std::int64_t>(world_size) * kPerRankBatch;
  const std::int64_t micro_rows = kPerRankBatch / micro;
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    for (int m = 0; m < micro; ++m) {
      const std::int64_t start = step * global + rank * kPerRankBatch + m * micro_rows;
      sync.set_sync(m == micro - 1);
      torch::Tensor loss =
          torch::mse_loss(model->forward(x.narrow(0, start, micro_rows)), y.narrow(0, start, micro_rows)) / micro;
      loss.backward();
    }
    sync.finish_gradient_sync();
    optimizer.step();
  }
  torch::save(flat_parameters(*model), (out / ("rank" + std::to_string(rank) + ".pt")).string());
  std::FILE* buckets = std::fopen((out / ("buckets" + std::to_string(rank))).c_str(), "w");
  std::fprintf(buckets, "%zu %zu\n", sync.bucket_count(), sync.bytes_reduced());
  std::fclose(buckets);
}

// The single process with the whole global batch.
torch::Tensor train_alone(int world_size) {
  auto model = make_model(1000);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto [x, y] = global_data(world_size);
  const std::int64_t global = static_cast<std::int64_t>(world_size) * kPerRankBatch;
  for (int step = 0; step < kSteps; ++step) {
    optimizer.zero_grad();
    torch::mse_loss(model->forward(x.narrow(0, step * global, global)), y.narrow(0, step * global, global)).backward();
    optimizer.step();
  }
  return flat_parameters(*model);
}

// Forks world_size ranks (before this process has used torch's threads) and
// returns their exit codes.
std::vector<int> run_ranks(int world_size, int micro, std::size_t bucket_bytes, const fs::path& out) {
  const int port = free_loopback_port();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        train_rank(rank, world_size, port, micro, bucket_bytes, out);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
        code = 1;
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  std::vector<int> codes;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return codes;
}

void expect_equivalent(int world_size, int micro, std::size_t bucket_bytes) {
  testing::TempDir dir;
  std::vector<int> codes = run_ranks(world_size, micro, bucket_bytes, dir.path());
  for (int rank = 0; rank < world_size; ++rank) ASSERT_EQ(codes[static_cast<std::size_t>(rank)], 0) << "rank " << rank;
  torch::Tensor alone = train_alone(world_size);
  torch::Tensor rank0;
  torch::load(rank0, (dir.path() / "rank0.pt").string());
  for (int rank = 1; rank < world_size; ++rank) {
    torch::Tensor other;
    torch::load(other, (dir.path() / ("rank" + std::to_string(rank) + ".pt")).string());
    EXPECT_TRUE(torch::equal(rank0, other)) << "rank " << rank << " differs from rank 0";
  }
  // 25 steps of SGD with momentum in float32: sums in another order differ
  // by rounding only, far below the parameters' own change.
  const double max_diff = (rank0 - alone).abs().max().item<double>();
  const double moved = (alone - flat_parameters(*make_model(1000))).abs().max().item<double>();
  EXPECT_LT(max_diff, 1e-5) << world_size << " ranks, " << micro << " micro-batches";
  EXPECT_GT(moved, 1e-2) << "the reference must actually train";
}

TEST(Ddp, TwoRanksMatchOneProcessWithTheWholeBatch) { expect_equivalent(2, 1, 25u << 20); }

TEST(Ddp, FourRanksWithSmallBucketsMatchOneProcess) {
  // 256-byte buckets: a bucket per parameter or so, launched during backward.
  expect_equivalent(4, 1, 256);
}

TEST(Ddp, AccumulationUnderNoSyncMatchesOneProcess) { expect_equivalent(2, 2, 1024); }

TEST(Ddp, ReducesEachGradientOncePerStep) {
  testing::TempDir dir;
  std::vector<int> codes = run_ranks(2, 2, 1024, dir.path());
  ASSERT_EQ(codes, (std::vector<int>{0, 0}));
  std::size_t buckets = 0, bytes = 0;
  std::FILE* f = std::fopen((dir.path() / "buckets0").c_str(), "r");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fscanf(f, "%zu %zu", &buckets, &bytes), 2);
  std::fclose(f);
  const std::size_t params = (kIn * kHidden + kHidden) + (kHidden * kHidden + kHidden) + (kHidden * kOut + kOut);
  EXPECT_EQ(bytes, params * sizeof(float));  // Ψ gradients once: DDP's 2Ψ on the wire (ring all-reduce)
  EXPECT_GT(buckets, 3u);
}

// Rank 1 never starts: rank 0 must give up within the timeout and say
// which rank is missing, not hang.
TEST(Ddp, AMissingRankIsATimeoutNamingIt) {
  World world;
  world.world_size = 2;
  world.local_world_size = 2;
  world.master_port = free_loopback_port();
  auto start = std::chrono::steady_clock::now();
  try {
    init_process_group(world, {std::chrono::milliseconds(1500)});
    FAIL() << "joined a group whose rank 1 never started";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("[rank 0] rendezvous at 127.0.0.1:"), std::string::npos) << message;
    EXPECT_NE(message.find("rank 1 of 2 did not arrive (arrived: 0)"), std::string::npos) << message;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10);
}

}  // namespace
}  // namespace kiln::dist
