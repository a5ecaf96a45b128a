// Sampling text from a GPT: what `kiln generate` runs.
//
//   kiln::SamplingOptions options{.max_new_tokens = 100, .temperature = 0.8, .top_k = 40};
//   kiln::generate(gpt, prompt_ids, options, [](std::int64_t id) { print(id); });
//
// Each step feeds only the newest token through the model's KvCache. When
// the context reaches block_size, the cache is rebuilt from the last half of
// the tokens (one full forward pass per block_size / 2 new tokens), since
// learned positions end at block_size.
//
// Determinism: the same model, prompt, options and seed give the same
// tokens on any machine and thread count for temperature 0 (greedy) and, for
// sampling, as long as the logits come out bitwise equal; the draws come from
// a CPU generator of their own (seeded by options.seed), never from the
// global one, so sampling does not disturb a training run's RNG stream.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kiln/config/node.h"
#include "kiln/models/gpt.h"
#include "kiln/train/sampling_options.h"

namespace kiln {

// Throws kiln::Error naming the option for temperature < 0, top_k < 0,
// top_p outside (0, 1] or max_new_tokens < 0.
void check_sampling_options(const SamplingOptions& options);

// `logits` [V] (float) with every token outside the top-k and the top-p
// nucleus set to -inf, after dividing by temperature (> 0). The most likely
// token always survives. Ties at the k-th value keep every tied token.
torch::Tensor filter_logits(const torch::Tensor& logits, const SamplingOptions& options);

// Samples max_new_tokens continuations of `prompt` (ids, at least one),
// calling on_token with each as it is chosen. Returns the new tokens. The
// model runs in eval mode and without autograd; its mode is restored after.
std::vector<std::int64_t> generate(models::Gpt& gpt, const std::vector<std::int64_t>& prompt,
                                   const SamplingOptions& options,
                                   const std::function<void(std::int64_t)>& on_token = {});

// The Gpt a run trained: built from the run's resolved config (`model:`),
// with the weights of checkpoint `checkpoint` (a checkpoint directory), on
// `device` ("auto": cuda when there is one; "cpu", "cuda", "cuda:1"; anything
// else is a kiln::Error). Throws ConfigError when the run's
// model is not a gpt, kiln::IoError for a missing or damaged checkpoint or
// one whose tensors do not fit the model.
std::shared_ptr<models::Gpt> load_trained_gpt(const config::Node& resolved, const std::filesystem::path& checkpoint,
                                              const std::string& device);

}  // namespace kiln
