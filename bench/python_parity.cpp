// kiln against a plain PyTorch eager loop: the same MLP and CNN trained on
// Fashion-MNIST with the same batch size, intra-op threads, precision (fp32),
// optimizer (AdamW, configs/optimizer/adamw.yaml) and data normalisation,
// both timed in this run; samples per second of each and the ratio.
//
//   kiln    kiln::Trainer::fit in this process, set up as `kiln train` sets
//           it up (ClassificationModule, the job's trainer defaults, cosine
//           schedule, JSONL logger, checkpoint dir, the config's callbacks) on
//           FashionMnistDataModule (the job's data config with
//           val_fraction=0, so all 60,000 training images and no
//           validation, and num_workers=0 unless --num-workers is given).
//   python  bench/pytorch_loop.py under /usr/bin/python3 (Debian's torch
//           1.13): the same layers, batches gathered from the pre-normalised
//           training set by a shuffled index, and torch.optim.AdamW as a
//           user writes it (PyTorch 1.13's default on CPU: one parameter at
//           a time). --python-foreach gives the stricter baseline
//           AdamW(foreach=True), PyTorch's multi-tensor step.
//
// Each side runs WARMUP steps, then STEPS timed steps (wall time between the
// end of step WARMUP and the end of step WARMUP + STEPS; samples are counted,
// so an epoch's smaller last batch is accounted for). With --rounds R both
// sides run R times, alternately, and the medians are reported.
//
// usage: kiln_python_parity_bench [STEPS] [--warmup W] [--threads T] [--rounds R]
//                                 [--models mlp,cnn] [--num-workers K] [--python-foreach]
//        (defaults: 300 steps, 20 warm-up, the cores available, 1 round; the suite runs 3 steps)
// Targets (issue #3): kiln/python >= 1.5 for the MLP, >= 1.0 for the CNN.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/data/data_module.h"
#include "kiln/data/fashion_mnist.h"
#include "kiln/models/network.h"
#include "kiln/train/callbacks.h"
#include "kiln/train/classification.h"
#include "kiln/train/job.h"
#include "kiln/train/optim.h"
#include "kiln/train/scheduler.h"
#include "kiln/train/trainer.h"
#include "timed_fit.h"
#include "train_bench_support.h"

namespace {

struct Args {
  int steps = 300;
  int warmup = 20;
  int threads = 0;  // 0: available_cores()
  int rounds = 1;
  int num_workers = 0;
  bool python_foreach = false;  // the baseline's AdamW(foreach=True)
  std::vector<std::string> models{"mlp", "cnn"};
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] { return kiln::bench::flag_value(argc, argv, i); };
    if (a == "--warmup") {
      args.warmup = std::stoi(value());
    } else if (a == "--threads") {
      args.threads = std::stoi(value());
    } else if (a == "--rounds") {
      args.rounds = std::stoi(value());
    } else if (a == "--num-workers") {
      args.num_workers = std::stoi(value());
    } else if (a == "--python-foreach") {
      args.python_foreach = true;
    } else if (a == "--models") {
      args.models.clear();
      std::stringstream list(value());
      for (std::string m; std::getline(list, m, ',');) args.models.push_back(m);
    } else if (!a.empty() && a[0] != '-') {
      args.steps = std::stoi(a);
    } else {
      std::fprintf(stderr,
                   "usage: kiln_python_parity_bench [STEPS] [--warmup W] [--threads T] [--rounds R] "
                   "[--models mlp,cnn] [--num-workers K] [--python-foreach]\n");
      std::exit(2);
    }
  }
  if (args.steps < 1 || args.warmup < 0 || args.rounds < 1 || args.num_workers < 0) {
    std::fprintf(stderr, "STEPS and --rounds must be >= 1, --warmup and --num-workers >= 0\n");
    std::exit(2);
  }
  for (const auto& m : args.models) {
    if (m != "mlp" && m != "cnn") {
      std::fprintf(stderr, "--models takes mlp and cnn, found '%s'\n", m.c_str());
      std::exit(2);
    }
  }
  if (args.threads <= 0) args.threads = kiln::available_cores();
  return args;
}

struct DataSettings {
  std::int64_t batch_size;
  double mean, stddev;
};

// kiln's side for one model: samples/s over the timed window.
double kiln_samples_per_second(const std::string& model, const Args& args, DataSettings* settings) {
  kiln::config::Node cfg = kiln::bench::job_config(
      {"model=" + model, "data.val_fraction=0.0", "data.num_workers=" + std::to_string(args.num_workers)});
  auto data = kiln::instantiate_at<kiln::data::DataModule>(cfg, {"data"});
  const auto* fashion = dynamic_cast<const kiln::data::FashionMnistDataModule*>(data.get());
  *settings = {fashion->options().batch_size, fashion->options().normalize ? fashion->options().mean : 0.0,
               fashion->options().normalize ? fashion->options().stddev : 1.0};
  data->setup();  // reading the files is not part of the timed window

  // Exactly the Trainer `kiln train` runs: loggers, checkpoints, the config's callbacks.
  return kiln::bench::timed_job_fit(cfg, *data, args.warmup, args.steps, args.threads, "kiln_parity_");
}

// Python's side for every model, in one process: model -> samples/s.
std::map<std::string, double> python_samples_per_second(const Args& args, const DataSettings& settings) {
  std::string models;
  for (const auto& m : args.models) models += (models.empty() ? "" : ",") + m;
  char mean[32], stddev[32];
  std::snprintf(mean, sizeof mean, "%.17g", settings.mean);
  std::snprintf(stddev, sizeof stddev, "%.17g", settings.stddev);
  std::vector<std::string> command{"/usr/bin/python3",
                                   std::string(KILN_SOURCE_DIR) + "/bench/pytorch_loop.py",
                                   "--models",
                                   models,
                                   "--steps",
                                   std::to_string(args.steps),
                                   "--warmup",
                                   std::to_string(args.warmup),
                                   "--batch-size",
                                   std::to_string(settings.batch_size),
                                   "--threads",
                                   std::to_string(args.threads),
                                   "--mean",
                                   mean,
                                   "--std",
                                   stddev};
  if (args.python_foreach) command.push_back("--foreach");
  kiln::bench::ChildResult child = kiln::bench::run_child(command);
  std::map<std::string, double> rates;
  std::stringstream lines(child.output);
  for (std::string line; std::getline(lines, line);) {
    for (const auto& m : args.models)
      if (line.rfind("model=" + m + " ", 0) == 0) rates[m] = kiln::bench::field(line, "samples_per_s");
  }
  if (child.exit_code != 0 || rates.size() != args.models.size()) {
    std::fprintf(stderr, "bench/pytorch_loop.py failed (exit %d); is python3-torch installed?\n", child.exit_code);
    std::exit(1);
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  kiln::register_builtin_factories();
  double load[1] = {-1};
  getloadavg(load, 1);
  std::map<std::string, std::vector<double>> kiln_rates, python_rates;
  DataSettings settings{};
  try {
    for (int round = 0; round < args.rounds; ++round) {
      for (const auto& m : args.models) kiln_rates[m].push_back(kiln_samples_per_second(m, args, &settings));
      for (const auto& [m, rate] : python_samples_per_second(args, settings)) python_rates[m].push_back(rate);
      for (const auto& m : args.models)
        std::printf("  round %d  %s  kiln %9.1f samples/s  python %9.1f samples/s\n", round + 1, m.c_str(),
                    kiln_rates[m].back(), python_rates[m].back());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln side failed: %s\n", e.what());
    return 1;
  }
  std::printf(
      "kiln vs PyTorch eager loop: %d steps after %d warm-up, batch %lld, %d threads, fp32, AdamW, "
      "%d rounds (1-min load at start %.2f)\n",
      args.steps, args.warmup, static_cast<long long>(settings.batch_size), args.threads, args.rounds, load[0]);
  for (const auto& m : args.models) {
    double kiln_rate = kiln::bench::median(kiln_rates[m]), python_rate = kiln::bench::median(python_rates[m]);
    double ratio = kiln_rate / python_rate;
    double target = m == "mlp" ? 1.5 : 1.0;
    std::printf("%s  kiln %9.1f samples/s  python %9.1f samples/s (baseline: /usr/bin/python3 eager loop, %s)\n",
                m.c_str(), kiln_rate, python_rate, args.python_foreach ? "AdamW(foreach=True)" : "AdamW()");
    std::printf("%s ratio kiln/python %.3f  (target >= %.1f: %s)\n", m.c_str(), ratio, target,
                ratio >= target ? "PASS" : "MISS");
  }
  return 0;
}
