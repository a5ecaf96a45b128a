// kiln's side of bench/gpt2_gpu.sh: trains the GPT the way `kiln train
// +recipe=gpt2` does (the job's Trainer, data=synthetic_tokens, a
// constant learning rate so bench/gpt2_torch.py can match it exactly), and
// prints one line the script turns into its table:
//
//   impl=kiln tokens_per_s=... ms_per_step=... peak_mem_mb=... loss=... first_step_s=... params=... flops_per_token=...
//
// usage: kiln_gpt2_train_bench [--model gpt2|gpt_tiny] [--batch 16] [--steps 50] [--warmup 10]
//          [--accelerator cuda|cpu] [--precision bf16-mixed|32] [--threads N] [--seed 42]
//          [--raw] [KEY=VALUE ...]   (config overrides on top, e.g. trainer.deterministic=false)
//
// --raw trains the same model on the same batches in a bare LibTorch loop
// (torch::optim::AdamW, clip_grad_norm_, no Trainer; fp32 only): impl=raw,
// the line that separates the model's speed from the Trainer's.
//
// Timing: CUDA is synchronised at both ends of the timed window of steps
// [warmup, warmup + steps); the loss is train/loss averaged over the last
// 10 steps, as the Python side reports it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

// Set by bench/CMakeLists.txt when LibTorch was built with CUDA (c10_cuda).
#ifdef KILN_BENCH_CUDA_STATS
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "kiln/models/gpt.h"
#include "kiln/train/language_model.h"
#include "kiln/train/malloc_tuning.h"
#include "timed_fit.h"

namespace {

using namespace kiln;

void synchronize_if_cuda(bool cuda) {
  if (cuda) torch::cuda::synchronize();
}

// The bare loop of --raw: forward, loss, backward, clip, step; no Trainer.
// Returns {window seconds, first step seconds, mean loss of the last 10}.
std::tuple<double, double, double> raw_loop(models::Gpt& gpt, data::DataModule& data, double lr, int warmup, int steps,
                                            bool cuda) {
  const torch::Device device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  gpt.to(device);
  gpt.train();
  torch::optim::AdamW opt(gpt.parameters(),
                          torch::optim::AdamWOptions(lr).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1));
  auto loader = data.train_loader();
  loader->start_epoch(0);
  std::vector<torch::Tensor> losses;
  auto start = std::chrono::steady_clock::now(), window = start;
  double first_step_s = 0;
  for (int step = 0; step < warmup + steps; ++step) {
    data::Batch batch = *loader->next();
    torch::Tensor x = batch.input.to(device), y = batch.target.to(device);
    torch::Tensor logits = gpt.forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), y.reshape(-1));
    opt.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(gpt.parameters(), 1.0);
    opt.step();
    losses.push_back(loss.detach());
    if (step == 0) {
      synchronize_if_cuda(cuda);
      first_step_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    if (step + 1 == warmup) {
      synchronize_if_cuda(cuda);
      window = std::chrono::steady_clock::now();
    }
  }
  synchronize_if_cuda(cuda);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - window).count();
  std::vector<torch::Tensor> last(losses.end() - std::min<std::size_t>(10, losses.size()), losses.end());
  return {seconds, first_step_s, torch::stack(last).mean().item<double>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "gpt2", accelerator = "cuda", precision = "bf16-mixed";
  int batch = 16, steps = 50, warmup = 10, threads = 0, seed = 42;
  std::vector<std::string> extra_overrides;
  bool raw = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model")
      model = bench::flag_value(argc, argv, i);
    else if (a == "--batch")
      batch = std::atoi(bench::flag_value(argc, argv, i).c_str());
    else if (a == "--steps")
      steps = std::atoi(bench::flag_value(argc, argv, i).c_str());
    else if (a == "--warmup")
      warmup = std::atoi(bench::flag_value(argc, argv, i).c_str());
    else if (a == "--accelerator")
      accelerator = bench::flag_value(argc, argv, i);
    else if (a == "--precision")
      precision = bench::flag_value(argc, argv, i);
    else if (a == "--threads")
      threads = std::atoi(bench::flag_value(argc, argv, i).c_str());
    else if (a == "--seed")
      seed = std::atoi(bench::flag_value(argc, argv, i).c_str());
    else if (a == "--raw")
      raw = true;
    else if (a.find('=') != std::string::npos && !a.starts_with("-"))
      extra_overrides.push_back(a);
    else {
      std::fprintf(stderr, "kiln_gpt2_train_bench: unknown argument '%s' (see the header of bench/gpt2_train.cpp)\n",
                   a.c_str());
      return 2;
    }
  }
  if (batch < 1 || steps < 1 || warmup < 1) {
    std::fprintf(stderr, "kiln_gpt2_train_bench: --batch, --steps and --warmup must be >= 1\n");
    return 2;
  }
  const std::int64_t total = warmup + steps;
  std::vector<std::string> overrides{"+recipe=gpt2",
                                     "model=" + model,
                                     "data=synthetic_tokens",
                                     "scheduler=constant",
                                     "data.batch_size=" + std::to_string(batch),
                                     "data.train_windows=" + std::to_string(batch * total),
                                     "data.eval_windows=0",
                                     "trainer.accelerator=" + accelerator,
                                     "trainer.precision=" + precision,
                                     "trainer.log_every_n_steps=10",
                                     "seed=" + std::to_string(seed),
                                     "~callbacks.progress_bar"};
  overrides.insert(overrides.end(), extra_overrides.begin(), extra_overrides.end());
  config::Node cfg = bench::job_config(overrides);
  register_builtin_factories();
  seed_everything(static_cast<std::uint64_t>(seed));
  auto network = instantiate_at<models::Network>(cfg, {"model"});
  auto& gpt = dynamic_cast<models::Gpt&>(*network);
  LanguageModelModule module(network);
  auto data = instantiate_at<data::DataModule>(cfg, {"data"});

  const models::GptOptions& o = gpt.options();
  // nanoGPT's estimate_mfu: N without the position embedding (the token
  // embedding is the output layer too), plus attention's 12 L H Q T.
  const double n = static_cast<double>(gpt.num_parameters() - o.block_size * o.n_embd);
  const double flops_per_token = 6 * n + 12.0 * o.n_layer * o.n_head * (o.n_embd / o.n_head) * o.block_size;
  const double tokens = static_cast<double>(batch) * steps * o.block_size;
  const bool cuda = accelerator == "cuda";
  if (raw) {
    if (threads > 0) at::set_num_threads(threads);
    // As make_job_trainer does for the Trainer: the same allocator for both.
    train::keep_freed_memory_for_reuse();
    auto [seconds, first_step_s, loss] =
        raw_loop(gpt, *data, cfg.find("optimizer")->find("lr")->as_float(), warmup, steps, cuda);
    std::printf(
        "impl=raw tokens_per_s=%.1f ms_per_step=%.3f peak_mem_mb=0 loss=%.4f first_step_s=%.3f params=%lld "
        "flops_per_token=%.6e\n",
        tokens / seconds, 1000 * seconds / steps, loss, first_step_s, static_cast<long long>(gpt.num_parameters()),
        flops_per_token);
    return 0;
  }
  TrainerOptions options = trainer_options_schema().bind(*cfg.find("trainer"), {"trainer"});
  options.max_steps = total;
  options.limit_val_batches = 0;
  options.num_sanity_val_steps = 0;
  options.enable_checkpointing = false;
  if (threads > 0) options.num_threads = threads;
  const std::filesystem::path run_dir = bench::temp_run_dir("kiln_gpt2_bench");
  std::unique_ptr<Trainer> trainer = make_job_trainer(cfg, run_dir, options);
  auto clock = std::make_shared<bench::WindowTimer>(warmup, total, [cuda] { synchronize_if_cuda(cuda); });
  trainer->add_callback(clock);
  trainer->fit(module, *data);
  std::filesystem::remove_all(run_dir);

  double peak_mb = 0;
#ifdef KILN_BENCH_CUDA_STATS
  using c10::cuda::CUDACachingAllocator::StatType;
  if (cuda)
    peak_mb = static_cast<double>(c10::cuda::CUDACachingAllocator::getDeviceStats(0)
                                      .allocated_bytes[static_cast<std::size_t>(StatType::AGGREGATE)]
                                      .peak) /
              1e6;
#endif
  std::printf(
      "impl=kiln tokens_per_s=%.1f ms_per_step=%.3f peak_mem_mb=%.1f loss=%.4f first_step_s=%.3f params=%lld "
      "flops_per_token=%.6e\n",
      tokens / clock->window_seconds(), 1000 * clock->window_seconds() / steps, peak_mb,
      trainer->callback_metrics().at("train/loss"), clock->first_step_seconds(),
      static_cast<long long>(gpt.num_parameters()), flops_per_token);
  return 0;
}
