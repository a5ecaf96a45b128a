// What the data-parallel tests share: ranks as real forked processes joined
// over Gloo on 127.0.0.1, and a small regression problem whose global batch
// every process can rebuild.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <vector>

#include "kiln/dist/launcher.h"
#include "kiln/dist/world.h"
#include "kiln/models/network.h"

namespace kiln::dist::test_support {

constexpr int kIn = 12, kHidden = 32, kOut = 5;

inline torch::nn::Sequential make_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(kIn, kHidden), torch::nn::Tanh(), torch::nn::Linear(kHidden, kHidden),
                               torch::nn::Tanh(), torch::nn::Linear(kHidden, kOut));
}

// make_model's layers as a Network whose Linear layers are its sharding
// units (ZeRO-3 gathers them one at a time); the same parameters, in the
// same order, as make_model(seed).
class LayeredModel final : public models::Network {
 public:
  explicit LayeredModel(std::uint64_t seed) : layers_(register_module("layers", make_model(seed))) {}
  torch::Tensor forward(const torch::Tensor& x) override { return run_units(layers_, x); }
  std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() override { return units_of(layers_); }

 private:
  torch::nn::Sequential layers_;
};

inline std::int64_t model_numel() {
  return (kIn * kHidden + kHidden) + (kHidden * kHidden + kHidden) + (kHidden * kOut + kOut);
}

// Inputs and targets of `rows` rows, the same in every process.
inline std::pair<torch::Tensor, torch::Tensor> regression_data(std::int64_t rows) {
  torch::manual_seed(7);
  return {torch::randn({rows, kIn}), torch::randn({rows, kOut})};
}

inline torch::Tensor flat_parameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : model.parameters()) parts.push_back(p.detach().flatten());
  return torch::cat(parts);
}

inline World loopback_world(int rank, int world_size, int port) {
  World world;
  world.rank = rank;
  world.world_size = world_size;
  world.local_rank = rank;
  world.local_world_size = world_size;
  world.master_port = port;
  return world;
}

// Forks world_size ranks (call it before this process has used torch's
// threads), runs body(rank, port) in each, and returns their exit codes: 0,
// 1 when body threw (its message on stderr), 128 + N for signal N. With
// `peak_rss_kib`, each rank's peak resident memory (wait4's ru_maxrss).
inline std::vector<int> run_forked_ranks(int world_size, const std::function<void(int rank, int port)>& body,
                                         std::vector<long>* peak_rss_kib = nullptr) {
  const int port = free_loopback_port();
  std::fflush(nullptr);  // or each child prints what this process had buffered again
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        at::set_num_threads(1);
        body(rank, port);
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
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    if (peak_rss_kib) peak_rss_kib->push_back(usage.ru_maxrss);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return codes;
}

}  // namespace kiln::dist::test_support
