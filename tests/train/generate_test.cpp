// Sampling from a GPT: greedy decoding against the full forward pass,
// determinism per seed, top-k and top-p, the context limit, errors.
#include "kiln/train/generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "kiln/config/error.h"
#include "kiln/config/yaml.h"
#include "kiln/error.h"

namespace kiln {
namespace {

std::shared_ptr<models::Gpt> tiny_gpt(std::int64_t block_size = 32) {
  torch::manual_seed(0);
  models::GptOptions o;
  o.vocab_size = 40;
  o.block_size = block_size;
  o.n_layer = 2;
  o.n_head = 2;
  o.n_embd = 32;
  auto gpt = models::make_gpt(o);
  // Larger weights than GPT-2's initialisation, so the next-token
  // distribution is far from uniform and top-k / top-p have work to do.
  torch::NoGradGuard no_grad;
  for (auto& p : gpt->parameters()) p.mul_(8);
  return gpt;
}

// The next-token logits after `context`, by a full forward pass.
torch::Tensor next_logits(models::Gpt& gpt, const std::vector<std::int64_t>& context) {
  torch::NoGradGuard no_grad;
  return gpt.forward(torch::tensor(context, torch::kLong).unsqueeze(0)).select(1, -1).squeeze(0);
}

TEST(Generate, GreedyPicksTheFullForwardPassArgmaxEveryStep) {
  auto gpt = tiny_gpt();
  gpt->eval();
  std::vector<std::int64_t> prompt{3, 1, 4, 1, 5};
  SamplingOptions o{.max_new_tokens = 20, .temperature = 0};
  std::vector<std::int64_t> streamed;
  std::vector<std::int64_t> out = generate(*gpt, prompt, o, [&](std::int64_t id) { streamed.push_back(id); });
  ASSERT_EQ(out.size(), 20u);
  EXPECT_EQ(streamed, out);
  std::vector<std::int64_t> context = prompt;
  for (std::int64_t token : out) {
    EXPECT_EQ(token, next_logits(*gpt, context).argmax().item<std::int64_t>());
    context.push_back(token);
  }
}

TEST(Generate, TheSameSeedGivesTheSameTokensAndAnotherSeedOthers) {
  auto gpt = tiny_gpt();
  SamplingOptions o{.max_new_tokens = 30, .temperature = 1.0, .seed = 7};
  auto a = generate(*gpt, {1, 2, 3}, o);
  auto b = generate(*gpt, {1, 2, 3}, o);
  EXPECT_EQ(a, b);
  o.seed = 8;
  EXPECT_NE(generate(*gpt, {1, 2, 3}, o), a);
  // Sampling draws from its own generator: the global one is untouched.
  torch::manual_seed(5);
  torch::Tensor expected = torch::rand({4});
  torch::manual_seed(5);
  generate(*gpt, {1, 2, 3}, o);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
  EXPECT_TRUE(gpt->is_training()) << "the model's mode is restored";
}

TEST(Generate, EverySampledTokenIsAmongTheTopKAndInsideTheNucleus) {
  auto gpt = tiny_gpt();
  gpt->eval();
  for (SamplingOptions o : {SamplingOptions{.max_new_tokens = 25, .top_k = 3, .seed = 1},
                            SamplingOptions{.max_new_tokens = 25, .top_p = 0.5, .seed = 2}}) {
    std::vector<std::int64_t> context{7, 7, 2};
    std::set<std::int64_t> distinct;
    for (std::int64_t token : generate(*gpt, context, o)) {
      torch::Tensor logits = next_logits(*gpt, context);
      if (o.top_k > 0) {
        torch::Tensor top = std::get<1>(logits.topk(o.top_k));
        EXPECT_TRUE((top == token).any().item<bool>()) << token << " is not among the top " << o.top_k;
      } else {
        // The nucleus: the most likely tokens until their mass reaches top_p.
        auto [probs, order] = torch::softmax(logits, 0).sort(0, true);
        torch::Tensor before = probs.cumsum(0) - probs;
        torch::Tensor nucleus = order.masked_select(before < o.top_p);
        EXPECT_TRUE((nucleus == token).any().item<bool>()) << token << " is outside the nucleus";
      }
      distinct.insert(token);
      context.push_back(token);
    }
    EXPECT_GT(distinct.size(), 1u) << "sampling, not greedy decoding";
  }
}

TEST(Generate, FilterLogitsKeepsTheTopKAndTheNucleus) {
  torch::Tensor logits = torch::log(torch::tensor({0.05, 0.4, 0.1, 0.3, 0.15}));
  torch::Tensor k2 = filter_logits(logits, SamplingOptions{.top_k = 2});
  EXPECT_TRUE(torch::equal(torch::isfinite(k2), torch::tensor({false, true, false, true, false})));
  // 0.4 + 0.3 = 0.7 < 0.75, so 0.15 joins; 0.4 alone reaches 0.35.
  torch::Tensor p75 = filter_logits(logits, SamplingOptions{.top_p = 0.75});
  EXPECT_TRUE(torch::equal(torch::isfinite(p75), torch::tensor({false, true, false, true, true})));
  torch::Tensor p35 = filter_logits(logits, SamplingOptions{.top_p = 0.35});
  EXPECT_TRUE(torch::equal(torch::isfinite(p35), torch::tensor({false, true, false, false, false})));
  torch::Tensor hot = filter_logits(logits, SamplingOptions{.temperature = 0.5});
  EXPECT_TRUE(torch::allclose(hot, logits.to(torch::kFloat) * 2));
}

TEST(Generate, GoesOnPastTheContextLengthByRefillingTheCache) {
  auto gpt = tiny_gpt(/*block_size=*/8);
  gpt->eval();
  SamplingOptions o{.max_new_tokens = 30, .temperature = 0};
  std::vector<std::int64_t> prompt{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};  // longer than the context: its tail is used
  std::vector<std::int64_t> out = generate(*gpt, prompt, o);
  ASSERT_EQ(out.size(), 30u);
  // The first token continues the last block_size prompt tokens.
  std::vector<std::int64_t> tail(prompt.end() - 8, prompt.end());
  EXPECT_EQ(out[0], next_logits(*gpt, tail).argmax().item<std::int64_t>());
}

TEST(Generate, StopsAtTheStopToken) {
  auto gpt = tiny_gpt();
  SamplingOptions greedy{.max_new_tokens = 10, .temperature = 0};
  auto full = generate(*gpt, {1, 2}, greedy);
  greedy.stop_token = full[3];
  auto stopped = generate(*gpt, {1, 2}, greedy);
  // Up to and including the first occurrence of the stop token.
  auto first = std::find(full.begin(), full.end(), full[3]);
  EXPECT_EQ(stopped, std::vector<std::int64_t>(full.begin(), first + 1));
}

TEST(Generate, RefusesBadOptionsAndPromptsNamingThem) {
  auto gpt = tiny_gpt();
  auto message = [&](SamplingOptions o, std::vector<std::int64_t> prompt) {
    try {
      generate(*gpt, prompt, o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({.temperature = -1}, {1}).find("temperature must be >= 0"), std::string::npos);
  EXPECT_NE(message({.top_k = -2}, {1}).find("top-k must be >= 0"), std::string::npos);
  EXPECT_NE(message({.top_p = 0}, {1}).find("top-p must be in (0, 1]"), std::string::npos);
  EXPECT_NE(message({}, {}).find("the prompt has no tokens"), std::string::npos);
  EXPECT_NE(message({}, {1, 40}).find("prompt token 40 is outside the model's vocabulary 0..39"), std::string::npos);
}

TEST(Generate, LoadingARunWhoseModelIsNotAGptIsAConfigErrorAtModelTarget) {
  config::Node resolved = config::load_yaml("model: {_target_: mlp}\n", "run/.kiln/resolved.yaml").root;
  try {
    load_trained_gpt(resolved, "/nonexistent", "cpu");
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model._target_"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("this run's model is 'mlp'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln
