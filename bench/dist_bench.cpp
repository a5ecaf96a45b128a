// Data-parallel strategies on this machine (issue #7), each against its named
// baseline measured in the same run:
//   - speed: N ranks with batch B each against one process with batch N * B
//     on the same cores (samples/s ratio: the scaling of this machine);
//   - communication: bytes each rank sent over loopback per step (the lo
//     interface's counter, read by rank 0 around the timed steps, divided by
//     the ranks) against the formula, 2Ψ(N-1)/N floats for DDP and ZeRO-1/2,
//     3Ψ(N-1)/N for ZeRO-3 (each layer gathered for forward and backward);
//   - memory: each rank's model states (weights, gradients, optimizer state,
//     measured from the tensors it holds) against the ZeRO paper's formulas
//     for fp32 Adam, and its peak RSS.
// Every configuration runs in fresh forked processes. It never fails on
// timing; the suite runs it small so it cannot rot.
//
//   kiln_dist_bench [--ranks 2] [--width 4096] [--layers 3] [--batch 8] [--steps 10] [--warmup 2]
//                   [--malloc kiln|default]
// --malloc kiln (the default) runs with `kiln train`'s allocator settings
// (kiln/train/malloc_tuning.h), default with glibc's.
// (--warmup at least 2: model states are measured in its last step, once Adam's moments exist)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dist/forked_ranks.h"
#include "kiln/dist/ddp.h"
#include "kiln/dist/process_group.h"
#include "kiln/dist/zero.h"
#include "kiln/models/zoo.h"
#include "kiln/train/malloc_tuning.h"
#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using kiln::dist::ModelStateBytes;

struct Args {
  int ranks = 2;
  std::int64_t width = 4096;
  int layers = 3;
  std::int64_t batch = 8;  // per rank
  int steps = 10;
  int warmup = 2;
  bool kiln_malloc = true;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    long value = std::atol(argv[i + 1]);
    if (flag == "--malloc") {
      const std::string which = argv[i + 1];
      if (which != "kiln" && which != "default") {
        std::fprintf(stderr, "kiln_dist_bench: --malloc takes kiln or default, found %s\n", which.c_str());
        std::exit(2);
      }
      a.kiln_malloc = which == "kiln";
    } else if (flag == "--ranks")
      a.ranks = static_cast<int>(value);
    else if (flag == "--width")
      a.width = value;
    else if (flag == "--layers")
      a.layers = static_cast<int>(value);
    else if (flag == "--batch")
      a.batch = value;
    else if (flag == "--steps")
      a.steps = static_cast<int>(value);
    else if (flag == "--warmup")
      a.warmup = static_cast<int>(value);
    else {
      std::fprintf(stderr, "kiln_dist_bench: unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  if (a.ranks < 2 || a.width < 1 || a.layers < 1 || a.batch < 1 || a.steps < 1 || a.warmup < 2) {
    std::fprintf(stderr, "kiln_dist_bench: --ranks and --warmup must be >= 2, the other counts >= 1\n");
    std::exit(2);
  }
  return a;
}

// The zoo's MLP: its Linear layers are ZeRO-3's units.
std::shared_ptr<kiln::models::Network> make_mlp(const Args& a) {
  torch::manual_seed(1);
  kiln::models::MlpOptions options;
  options.in_features = a.width;
  options.hidden.assign(static_cast<std::size_t>(a.layers), a.width);
  options.num_classes = 10;
  options.dropout = 0;
  return kiln::models::make_mlp(options);
}

std::shared_ptr<torch::optim::Optimizer> adamw(std::vector<torch::Tensor> params) {
  return std::make_shared<torch::optim::AdamW>(std::move(params), torch::optim::AdamWOptions(1e-4));
}

// Bytes the loopback interface has sent (/proc/net/dev), 0 when unreadable.
long long loopback_tx_bytes() {
  std::ifstream dev("/proc/net/dev");
  std::string line;
  while (std::getline(dev, line)) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos || line.substr(0, colon).find("lo") == std::string::npos) continue;
    std::istringstream fields(line.substr(colon + 1));
    long long value = 0, tx = 0;
    for (int i = 0; i < 9 && fields >> value; ++i) tx = value;  // field 9: transmitted bytes
    return tx;
  }
  return 0;
}

// One rank of `strategy` ("single": one process, no group). Writes key=value lines to `out`.
void run_rank(const Args& a, const std::string& strategy, int rank, int world, int port, const fs::path& out) {
  torch::set_num_threads(std::max<int>(1, static_cast<int>(std::thread::hardware_concurrency()) / world));
  auto model = make_mlp(a);
  std::unique_ptr<kiln::dist::DistributedContext> context;
  if (world > 1)
    context = std::make_unique<kiln::dist::DistributedContext>(kiln::dist::init_process_group(
        kiln::dist::test_support::loopback_world(rank, world, port), {std::chrono::seconds(120)}));
  std::unique_ptr<kiln::dist::GradientSync> sync;
  std::unique_ptr<kiln::dist::ZeroOptimizer> zero;
  std::shared_ptr<torch::optim::Optimizer> optimizer;
  if (strategy == "ddp") {
    sync = std::make_unique<kiln::dist::GradientSync>(*model, context->group, kiln::dist::DdpOptions{}, context->watch);
    optimizer = adamw(model->parameters());
  } else if (strategy.rfind("zero", 0) == 0) {
    kiln::dist::ZeroOptions options{strategy.back() - '0'};
    if (options.stage == 3) options.units = model->sharding_units();
    zero = std::make_unique<kiln::dist::ZeroOptimizer>(*model, context->group, adamw, options, context->watch);
    model->set_unit_hooks(zero->unit_hooks());
    optimizer = zero->optimizer_ptr();
  } else {
    optimizer = adamw(model->parameters());
  }
  const std::int64_t rows = world > 1 ? a.batch : a.batch * a.ranks;
  torch::Tensor x = torch::randn({rows, a.width});
  torch::Tensor y = torch::randint(10, {rows}, torch::kInt64);
  ModelStateBytes states;
  std::int64_t buffers = 0;  // gradient buckets held between steps
  auto step = [&](bool measure) {
    if (zero) zero->gather_root_parameters();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    if (sync) sync->finish_gradient_sync();
    if (zero) zero->finish_gradient_sync();
    if (measure) states = zero ? zero->model_state_bytes() : kiln::dist::model_state_bytes(*model, *optimizer);
    optimizer->step();
    if (zero) zero->all_gather_parameters();
    optimizer->zero_grad();
    if (measure) buffers = zero ? zero->gradient_sync().bucket_buffer_bytes() : sync ? sync->bucket_buffer_bytes() : 0;
  };
  auto barrier = [&] {
    if (!context) return;
    std::vector<torch::Tensor> one{torch::zeros({1})};
    context->group->allreduce(one)->wait();
  };
  // Measured in the last warm-up step: Adam's moments exist from the first step on.
  for (int i = 0; i < a.warmup; ++i) step(i == a.warmup - 1);
  barrier();
  const long long tx_before = loopback_tx_bytes();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < a.steps; ++i) step(false);
  barrier();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long long tx_after = loopback_tx_bytes();
  std::ofstream file(out);
  file << "seconds=" << seconds << "\nstates=" << states.total() << "\nwire=" << (tx_after - tx_before)
       << "\nbuffers=" << buffers << "\n";
}

struct Result {
  double seconds = 0;
  long long states = 0, wire = 0, buffers = 0;
  long peak_rss_kib = 0;  // the largest of the ranks'
};

std::map<std::string, double> read_fields(const fs::path& path) {
  std::map<std::string, double> fields;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (std::size_t eq = line.find('='); eq != std::string::npos)
      fields[line.substr(0, eq)] = std::atof(line.c_str() + eq + 1);
  return fields;
}

Result run_strategy(const Args& a, const std::string& strategy) {
  const int world = strategy == "single" ? 1 : a.ranks;
  kiln::testing::TempDir dir("kiln_dist_bench");
  std::vector<long> peak_rss_kib;
  std::vector<int> codes = kiln::dist::test_support::run_forked_ranks(
      world,
      [&](int rank, int port) {
        run_rank(a, strategy, rank, world, port, dir.path() / ("rank" + std::to_string(rank)));
      },
      &peak_rss_kib);
  for (int code : codes) {
    if (code != 0) {
      std::fprintf(stderr, "kiln_dist_bench: a %s rank failed (exit %d)\n", strategy.c_str(), code);
      std::exit(1);
    }
  }
  Result result;
  result.peak_rss_kib = *std::max_element(peak_rss_kib.begin(), peak_rss_kib.end());
  std::map<std::string, double> rank0 = read_fields(dir.path() / "rank0");
  result.seconds = rank0["seconds"];
  result.states = static_cast<long long>(rank0["states"]);
  result.wire = static_cast<long long>(rank0["wire"]);
  result.buffers = static_cast<long long>(rank0["buffers"]);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  // Before the ranks are forked: they inherit the allocator settings.
  if (a.kiln_malloc) kiln::train::keep_freed_memory_for_reuse();
  const double psi = static_cast<double>(a.layers * (a.width * a.width + a.width) + a.width * 10 + 10);
  const double n = a.ranks;
  double load = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  std::printf(
      "data-parallel strategies: MLP %d x %lld (psi = %.2fM parameters), %d ranks x batch %lld against "
      "1 process x batch %lld, AdamW, %d steps after %d warm-up, %u cores (1-min load %.2f), %s malloc\n",
      a.layers, static_cast<long long>(a.width), psi / 1e6, a.ranks, static_cast<long long>(a.batch),
      static_cast<long long>(a.batch * a.ranks), a.steps, a.warmup, std::thread::hardware_concurrency(), load,
      a.kiln_malloc ? "kiln train's" : "glibc's default");
  // Formulas per rank, bytes: fp32 weights 4, gradients 4, Adam moments 8.
  const std::map<std::string, double> state_formula = {{"single", 16 * psi},
                                                       {"ddp", 16 * psi},
                                                       {"zero1", 8 * psi + 12 * psi / n},
                                                       {"zero2", 4 * psi + 12 * psi / n},
                                                       {"zero3", 16 * psi / n}};
  // Ring all-reduce, or reduce-scatter + all-gather: 2Ψ; ZeRO-3 gathers twice: 3Ψ.
  auto wire_formula = [&](const std::string& strategy) {
    return (strategy == "zero3" ? 3 : 2) * 4 * psi * (n - 1) / n;
  };
  const double mb = 1024.0 * 1024.0;
  std::printf("%-8s %5s %9s %10s %9s | %12s %10s %6s | %13s %10s %6s | %10s %11s\n", "strategy", "ranks", "ms/step",
              "samples/s", "vs single", "wire MB/step", "formula", "ratio", "states MB/rank", "formula", "ratio",
              "buckets MB", "peak RSS MB");
  double single_rate = 0;
  std::map<std::string, double> state_ratio;
  for (const std::string strategy : {"single", "ddp", "zero1", "zero2", "zero3"}) {
    Result r = run_strategy(a, strategy);
    const int world = strategy == "single" ? 1 : a.ranks;
    const double rate = static_cast<double>(a.batch * a.ranks * a.steps) / r.seconds;
    if (strategy == "single") single_rate = rate;
    const double wire = world > 1 ? static_cast<double>(r.wire) / a.steps / world : 0;
    state_ratio[strategy] = r.states / state_formula.at(strategy);
    std::printf("%-8s %5d %9.1f %10.1f %9.3f | %12.2f %10.2f %6.3f | %13.1f %10.1f %6.3f | %10.1f %11.1f\n",
                strategy.c_str(), world, 1000 * r.seconds / a.steps, rate, rate / single_rate, wire / mb,
                world > 1 ? wire_formula(strategy) / mb : 0.0, world > 1 ? wire / wire_formula(strategy) : 0.0,
                r.states / mb, state_formula.at(strategy) / mb, state_ratio[strategy], r.buffers / mb,
                r.peak_rss_kib / 1024.0);
  }
  for (const auto& [strategy, ratio] : state_ratio)
    std::printf("model states ratio %s/formula %.3f\n", strategy.c_str(), ratio);
  return 0;
}
