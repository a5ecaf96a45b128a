// Training the default experiment from shards against training it from the
// in-memory IDX loader (issue #5: "not slower"), both timed in this run.
//
//   idx     `kiln train`'s default data: FashionMnistDataModule, the IDX files
//           decoded into memory at setup, batches gathered by a prefetch
//           thread (configs/data/fashion_mnist.yaml).
//   shards  data=fashion_mnist_shards: ShardsDataModule streaming the same
//           training split from WebDataset shards that `kiln data pack`
//           wrote (packed before timing, into $TMPDIR, so in the page cache),
//           with its config's workers and shuffle buffer.
//
// Both sides are the Trainer `kiln train` runs (kiln::make_job_trainer: the
// job's callbacks, loggers, checkpoint directory), the same model, batch
// size, optimizer and threads; each runs WARMUP steps, then STEPS timed
// steps. With --rounds R they alternate R times (which goes first
// alternates too) and the medians of samples/s are reported.
//
// usage: kiln_shards_train_bench [STEPS] [--warmup W] [--rounds R] [--model cnn|mlp] [--threads T]
//                                [--shard-workers K]
//        (defaults: 200 steps, 20 warm-up, 3 rounds, cnn: the default experiment's model, the cores available)
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/data/data_module.h"
#include "kiln/data/pack.h"
#include "kiln/models/network.h"
#include "kiln/train/classification.h"
#include "kiln/train/job.h"
#include "kiln/train/trainer.h"
#include "support/temp_dir.h"
#include "timed_fit.h"
#include "train_bench_support.h"

namespace {

struct Args {
  int steps = 200;
  int warmup = 20;
  int rounds = 3;
  int threads = 0;  // 0: available_cores()
  std::string model = "cnn";
  int shard_workers = -1;  // -1: configs/data/fashion_mnist_shards.yaml's num_workers
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] { return kiln::bench::flag_value(argc, argv, i); };
    if (a == "--warmup") {
      args.warmup = std::stoi(value());
    } else if (a == "--rounds") {
      args.rounds = std::stoi(value());
    } else if (a == "--threads") {
      args.threads = std::stoi(value());
    } else if (a == "--model") {
      args.model = value();
    } else if (a == "--shard-workers") {
      args.shard_workers = std::stoi(value());
    } else if (!a.empty() && a[0] != '-') {
      args.steps = std::stoi(a);
    } else {
      std::fprintf(stderr,
                   "usage: kiln_shards_train_bench [STEPS] [--warmup W] [--rounds R] [--model cnn|mlp] "
                   "[--threads T] [--shard-workers K]\n");
      std::exit(2);
    }
  }
  if (args.steps < 1 || args.warmup < 0 || args.rounds < 1 || (args.model != "cnn" && args.model != "mlp")) {
    std::fprintf(stderr, "STEPS and --rounds must be >= 1, --warmup >= 0, --model cnn or mlp\n");
    std::exit(2);
  }
  if (args.threads <= 0) args.threads = kiln::available_cores();
  return args;
}

// Samples/s of the job's Trainer over the timed window, with `overrides`
// choosing the data.
double samples_per_second(const Args& args, const std::vector<std::string>& overrides) {
  std::vector<std::string> all = {"model=" + args.model};
  all.insert(all.end(), overrides.begin(), overrides.end());
  kiln::config::Node cfg = kiln::bench::job_config(all);
  auto data = kiln::instantiate_at<kiln::data::DataModule>(cfg, {"data"});
  data->setup();  // decoding IDX / opening shard indexes is not part of the timed window
  return kiln::bench::timed_job_fit(cfg, *data, args.warmup, args.steps, args.threads, "kiln_shards_bench_");
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  kiln::register_builtin_factories();
  kiln::testing::TempDir scratch("kiln_shards_bench");
  kiln::data::FashionMnistPackOptions pack;
  pack.out = scratch.path() / "fashion_mnist";
  try {
    kiln::data::pack_fashion_mnist(pack);
    std::vector<std::string> shards = {"data=fashion_mnist_shards", "data.root=" + pack.out.string()};
    if (args.shard_workers >= 0) shards.push_back("data.num_workers=" + std::to_string(args.shard_workers));
    std::vector<double> idx_rates, shard_rates;
    for (int round = 1; round <= args.rounds; ++round) {
      const bool idx_first = round % 2 == 1;
      for (int i = 0; i < 2; ++i) {
        if ((i == 0) == idx_first) {
          idx_rates.push_back(samples_per_second(args, {}));
        } else {
          shard_rates.push_back(samples_per_second(args, shards));
        }
      }
      std::printf("  round %d  idx %9.1f samples/s  shards %9.1f samples/s\n", round, idx_rates.back(),
                  shard_rates.back());
    }
    const double idx = kiln::bench::median(idx_rates), from_shards = kiln::bench::median(shard_rates);
    double load[1] = {-1};
    getloadavg(load, 1);
    std::printf("default experiment (%s), %d steps after %d warm-up, %d threads, %d rounds (1-min load %.2f)\n",
                args.model.c_str(), args.steps, args.warmup, args.threads, args.rounds, load[0]);
    std::printf("idx     %9.1f samples/s  (baseline: data=fashion_mnist, in memory)\n", idx);
    std::printf("shards  %9.1f samples/s  (data=fashion_mnist_shards, streamed from %s)\n", from_shards,
                pack.out.string().c_str());
    std::printf("samples/s ratio shards/idx %.3f  (target: not slower, >= 1.0: %s)\n", from_shards / idx,
                from_shards / idx >= 1.0 ? "PASS" : "MISS");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln_shards_train_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
