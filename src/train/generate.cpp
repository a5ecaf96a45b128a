#include "kiln/train/generate.h"

#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "kiln/config/error.h"
#include "kiln/error.h"
#include "kiln/registry.h"
#include "kiln/train/checkpoint.h"
#include "kiln/train/job.h"
#include "kiln/train/module.h"

namespace kiln {

void check_sampling_options(const SamplingOptions& o) {
  if (o.max_new_tokens < 0) throw Error("max-new-tokens must be >= 0, got " + std::to_string(o.max_new_tokens));
  if (!(o.temperature >= 0)) throw Error("temperature must be >= 0 (0: greedy), got " + std::to_string(o.temperature));
  if (o.top_k < 0) throw Error("top-k must be >= 0 (0: off), got " + std::to_string(o.top_k));
  if (!(o.top_p > 0 && o.top_p <= 1)) throw Error("top-p must be in (0, 1] (1: off), got " + std::to_string(o.top_p));
}

torch::Tensor filter_logits(const torch::Tensor& logits, const SamplingOptions& o) {
  const double minus_inf = -std::numeric_limits<double>::infinity();
  torch::Tensor out = logits.to(torch::kFloat) / o.temperature;
  if (o.top_k > 0 && o.top_k < out.size(0)) {
    torch::Tensor kth = std::get<0>(out.topk(o.top_k)).select(0, o.top_k - 1);
    out = out.masked_fill(out < kth, minus_inf);
  }
  if (o.top_p < 1) {
    auto [sorted, order] = out.sort(/*dim=*/0, /*descending=*/true);
    torch::Tensor probs = torch::softmax(sorted, 0);
    // A token stays when the mass of the tokens before it is below top_p:
    // the smallest prefix that reaches top_p, and never empty.
    torch::Tensor before = probs.cumsum(0) - probs;
    torch::Tensor drop_sorted = before >= o.top_p;
    torch::Tensor drop = torch::zeros_like(drop_sorted).scatter(0, order, drop_sorted);
    out = out.masked_fill(drop, minus_inf);
  }
  return out;
}

namespace {

std::int64_t choose(const torch::Tensor& logits, const SamplingOptions& o, at::Generator& generator) {
  torch::Tensor last = logits.to(torch::kCPU, torch::kFloat);
  if (o.temperature == 0) return last.argmax().item<std::int64_t>();
  torch::Tensor probs = torch::softmax(filter_logits(last, o), 0);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).item<std::int64_t>();
}

torch::Device parse_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  std::optional<torch::Device> device;
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
  }
  if (!device || !(device->is_cpu() || device->is_cuda()))
    throw Error("device '" + name + "' is not one of auto, cpu, cuda, cuda:N");
  if (device->is_cuda() && !torch::cuda::is_available())
    throw Error("device '" + name + "': this LibTorch sees no CUDA device (use --device cpu)");
  return *device;
}

}  // namespace

std::vector<std::int64_t> generate(models::Gpt& gpt, const std::vector<std::int64_t>& prompt,
                                   const SamplingOptions& options, const std::function<void(std::int64_t)>& on_token) {
  check_sampling_options(options);
  if (prompt.empty()) throw Error("generate: the prompt has no tokens (give at least one)");
  const std::int64_t vocab = gpt.options().vocab_size;
  for (std::int64_t id : prompt)
    if (id < 0 || id >= vocab)
      throw Error("generate: prompt token " + std::to_string(id) + " is outside the model's vocabulary 0.." +
                  std::to_string(vocab - 1));
  const bool was_training = gpt.is_training();
  gpt.eval();
  torch::NoGradGuard no_grad;
  const torch::Device device = gpt.parameters().front().device();
  at::Generator generator = at::detail::createCPUGenerator(options.seed);
  const std::int64_t block = gpt.options().block_size;

  std::vector<std::int64_t> context = prompt, produced;
  models::KvCache cache = gpt.new_cache();
  // Feeds `tokens` (the context's tail) into a fresh cache: the start, and
  // whenever the context outgrows block_size.
  auto refill = [&](std::size_t keep) {
    cache = gpt.new_cache();
    std::vector<std::int64_t> tail(context.end() - static_cast<std::ptrdiff_t>(keep), context.end());
    torch::Tensor tokens = torch::tensor(tail, torch::kLong).unsqueeze(0).to(device);
    return gpt.forward_cached(tokens, cache).select(1, -1).squeeze(0);
  };
  torch::Tensor logits = refill(std::min<std::size_t>(context.size(), static_cast<std::size_t>(block)));
  for (std::int64_t i = 0; i < options.max_new_tokens; ++i) {
    const std::int64_t next = choose(logits, options, generator);
    produced.push_back(next);
    context.push_back(next);
    if (on_token) on_token(next);
    if (options.stop_token && next == *options.stop_token) break;
    if (i + 1 == options.max_new_tokens) break;
    if (cache.length == block) {
      logits = refill(static_cast<std::size_t>(std::max<std::int64_t>(1, block / 2)));
    } else {
      torch::Tensor token = torch::full({1, 1}, next, torch::TensorOptions(torch::kLong).device(device));
      logits = gpt.forward_cached(token, cache).select(1, -1).squeeze(0);
    }
  }
  gpt.train(was_training);
  return produced;
}

std::shared_ptr<models::Gpt> load_trained_gpt(const config::Node& resolved, const std::filesystem::path& checkpoint,
                                              const std::string& device) {
  const torch::Device target_device = parse_device(device);
  // The Module the run trained, so the checkpoint's tensors load by the
  // names the Trainer saved them under; the Gpt is inside it.
  std::shared_ptr<Module> module = make_job_module(resolved);
  std::shared_ptr<models::Gpt> gpt;
  for (const auto& child : module->modules())
    if (auto found = std::dynamic_pointer_cast<models::Gpt>(child)) gpt = found;
  if (!gpt) {
    const config::Node* model = resolved.find("model");
    const config::Node* target = model ? model->find("_target_") : nullptr;
    throw config::ConfigError({config::Diagnostic{"model._target_", target ? target->source() : resolved.source(),
                                                  "kiln generate samples from a gpt model; this run's model is '" +
                                                      (target ? target->scalar_text() : std::string("?")) + "'",
                                                  "train one with +recipe=gpt_tiny (docs/language-models.md)"}});
  }
  train::load_model_part(train::load_checkpoint(checkpoint), *module);
  module->to(target_device);
  // The Gpt, keeping its Module alive.
  return std::shared_ptr<models::Gpt>(module, gpt.get());
}

}  // namespace kiln
