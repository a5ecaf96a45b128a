// DDP over real Gloo between real processes on 127.0.0.1: N forked ranks
// train a small model on their slices of each global batch and must end
// with the parameters of one process training on the whole batch (within
// float tolerance: the all-reduce sums in another order), and identical to
// each other (the all-reduce gives every rank the same bytes).
#include "kiln/dist/ddp.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "forked_ranks.h"
#include "kiln/dist/launcher.h"
#include "kiln/dist/process_group.h"
#include "kiln/error.h"
#include "support/shell.h"
#include "support/temp_dir.h"

namespace kiln::dist {
namespace {

namespace fs = std::filesystem;

using test_support::flat_parameters;
using test_support::make_model;

constexpr int kSteps = 25;
constexpr int kPerRankBatch = 8;

// The data of every step's global batch, the same in every process.
std::pair<torch::Tensor, torch::Tensor> global_data(int world_size) {
  return test_support::regression_data(static_cast<std::int64_t>(kSteps) * world_size * kPerRankBatch);
}

// One rank: rows [step * G + rank * B, +B) of each global batch of G = N * B,
// in `micro` micro-batches (all but the last under no_sync).
void train_rank(int rank, int world_size, int port, int micro, std::size_t bucket_bytes, const fs::path& out) {
  DistributedContext context =
      init_process_group(test_support::loopback_world(rank, world_size, port), {std::chrono::seconds(60)});
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

std::vector<int> run_ranks(int world_size, int micro, std::size_t bucket_bytes, const fs::path& out) {
  return test_support::run_forked_ranks(
      world_size, [&](int rank, int port) { train_rank(rank, world_size, port, micro, bucket_bytes, out); });
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
  EXPECT_EQ(bytes, static_cast<std::size_t>(test_support::model_numel()) *
                       sizeof(float));  // Ψ gradients once: DDP's 2Ψ on the wire (ring all-reduce)
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

// Both ranks join; rank 1 then never reaches the first gradient all-reduce.
// Rank 0's error must name that collective and rank 1, within the timeout,
// instead of Gloo's anonymous socket timeout (or a hang).
TEST(Ddp, AStuckCollectiveNamesItselfAndTheRankThatDidNotReachIt) {
  testing::TempDir dir;
  const fs::path message_file = dir.path() / "message";
  std::vector<int> codes = test_support::run_forked_ranks(2, [&](int rank, int port) {
    DistributedContext context =
        init_process_group(test_support::loopback_world(rank, 2, port), {std::chrono::seconds(3)});
    if (rank == 1) {
      std::this_thread::sleep_for(std::chrono::seconds(8));
      return;
    }
    auto model = make_model(1);
    GradientSync sync(*model, context.group, {}, context.watch);
    torch::mse_loss(model->forward(torch::ones({2, test_support::kIn})), torch::zeros({2, test_support::kOut}))
        .backward();
    auto start = std::chrono::steady_clock::now();
    try {
      sync.finish_gradient_sync();
    } catch (const Error& e) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::FILE* f = std::fopen(message_file.c_str(), "w");
      std::fprintf(f, "%.1f\n%s", seconds, e.what());
      std::fclose(f);
    }
  });
  ASSERT_EQ(codes, (std::vector<int>{0, 0}));
  const std::string written = testing::read_file(message_file);
  ASSERT_FALSE(written.empty()) << "the all-reduce did not fail";
  const std::string message = written.substr(written.find('\n') + 1);
  EXPECT_NE(message.find("[rank 0] all-reduce of gradient bucket 0 of 1 (collective #1) failed after"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("rank 1 did not reach it (ranks that did: 0; rank 1: no report"), std::string::npos)
      << message;
  // The Gloo timeout (3 s) plus the bounded wait for reports (3 s).
  EXPECT_LT(std::stod(written), 7.5);
}

}  // namespace
}  // namespace kiln::dist
