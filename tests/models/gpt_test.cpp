// The GPT model: its forward pass against a reference written out here
// with plain tensor ops, causal masking, the KV cache, GPT-2's shapes,
// parameter names and initialisation. The bf16 path:
// tests/train/language_model_test.cpp.
#include "kiln/models/gpt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "kiln/error.h"

namespace {

using kiln::models::Gpt;
using kiln::models::GptOptions;

GptOptions tiny() {
  GptOptions o;
  o.vocab_size = 11;
  o.block_size = 8;
  o.n_layer = 2;
  o.n_head = 2;
  o.n_embd = 16;
  return o;
}

std::map<std::string, torch::Tensor> params_of(Gpt& gpt) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : gpt.named_parameters()) out[item.key()] = item.value().detach();
  return out;
}

// GPT-2's forward pass from its definition: the reference the model must
// match. Attention is an explicit softmax with -inf above the diagonal.
torch::Tensor reference_forward(std::map<std::string, torch::Tensor> p, const GptOptions& o, const torch::Tensor& idx) {
  const std::int64_t batch = idx.size(0), steps = idx.size(1), heads = o.n_head, width = o.n_embd;
  auto ln = [&](const torch::Tensor& x, const std::string& name) {
    torch::Tensor mean = x.mean(-1, true);
    torch::Tensor var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / torch::sqrt(var + 1e-5) * p[name + ".weight"] + p[name + ".bias"];
  };
  auto linear = [&](const torch::Tensor& x, const std::string& name) {
    return torch::matmul(x, p[name + ".weight"].t()) + p[name + ".bias"];
  };
  torch::Tensor x = p["transformer.wte.weight"].index_select(0, idx.reshape(-1)).view({batch, steps, width}) +
                    p["transformer.wpe.weight"].narrow(0, 0, steps);
  torch::Tensor future = torch::ones({steps, steps}).triu(1).to(torch::kBool);
  for (std::int64_t l = 0; l < o.n_layer; ++l) {
    const std::string h = "transformer.h." + std::to_string(l);
    torch::Tensor qkv = linear(ln(x, h + ".ln_1"), h + ".attn.c_attn");
    auto split = [&](std::int64_t part) {
      return qkv.narrow(2, part * width, width).view({batch, steps, heads, width / heads}).permute({0, 2, 1, 3});
    };
    torch::Tensor q = split(0), k = split(1), v = split(2);
    torch::Tensor att = torch::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(width / heads));
    att = torch::softmax(att.masked_fill(future, -INFINITY), -1);
    torch::Tensor y = torch::matmul(att, v).permute({0, 2, 1, 3}).reshape({batch, steps, width});
    x = x + linear(y, h + ".attn.c_proj");
    torch::Tensor hidden = linear(ln(x, h + ".ln_2"), h + ".mlp.c_fc");
    // GELU, tanh approximation (GPT-2's "gelu_new").
    hidden = 0.5 * hidden * (1 + torch::tanh(std::sqrt(2 / M_PI) * (hidden + 0.044715 * hidden.pow(3))));
    x = x + linear(hidden, h + ".mlp.c_proj");
  }
  return torch::matmul(ln(x, "transformer.ln_f"), p["transformer.wte.weight"].t());
}

TEST(Gpt, ForwardMatchesGpt2WrittenOutWithPlainTensorOps) {
  torch::manual_seed(0);
  GptOptions o = tiny();
  Gpt gpt(o);
  // Non-trivial LayerNorm parameters and biases, so each one matters.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : gpt.parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  torch::Tensor idx = torch::randint(0, o.vocab_size, {3, 7}, torch::kLong);
  torch::Tensor logits = gpt.forward(idx);
  ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{3, 7, 11}));
  torch::Tensor expected = reference_forward(params_of(gpt), o, idx);
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-5, 1e-5)) << (logits - expected).abs().max();
}

TEST(Gpt, ChangingAFutureTokenNeverChangesAnEarlierLogit) {
  torch::manual_seed(1);
  Gpt gpt(tiny());
  gpt.eval();
  torch::Tensor idx = torch::randint(0, 11, {2, 8}, torch::kLong);
  torch::Tensor before = gpt.forward(idx);
  for (std::int64_t t = 0; t < 8; ++t) {
    torch::Tensor changed = idx.clone();
    changed.index_put_({torch::indexing::Slice(), t}, (idx.index({torch::indexing::Slice(), t}) + 1) % 11);
    torch::Tensor after = gpt.forward(changed);
    EXPECT_TRUE(torch::equal(after.narrow(1, 0, t), before.narrow(1, 0, t))) << "a change at position " << t;
    EXPECT_FALSE(torch::allclose(after.select(1, t), before.select(1, t))) << "position " << t << " sees itself";
  }
}

TEST(Gpt, KvCacheGivesTheLogitsOfTheFullForwardPass) {
  torch::manual_seed(2);
  Gpt gpt(tiny());
  gpt.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor idx = torch::randint(0, 11, {2, 8}, torch::kLong);
  torch::Tensor full = gpt.forward(idx);
  // A three-token prompt, then one token at a time.
  kiln::models::KvCache cache = gpt.new_cache();
  std::vector<torch::Tensor> pieces{gpt.forward_cached(idx.narrow(1, 0, 3), cache)};
  for (std::int64_t t = 3; t < 8; ++t) pieces.push_back(gpt.forward_cached(idx.narrow(1, t, 1), cache));
  EXPECT_EQ(cache.length, 8);
  EXPECT_TRUE(torch::allclose(torch::cat(pieces, 1), full, 1e-5, 1e-5));
  // Several new tokens after cached ones: each sees the cache and its own past.
  kiln::models::KvCache chunked = gpt.new_cache();
  torch::Tensor first = gpt.forward_cached(idx.narrow(1, 0, 5), chunked);
  torch::Tensor rest = gpt.forward_cached(idx.narrow(1, 5, 3), chunked);
  EXPECT_TRUE(torch::allclose(torch::cat({first, rest}, 1), full, 1e-5, 1e-5));
  // The cache ends at block_size.
  EXPECT_THROW(gpt.forward_cached(idx.narrow(1, 0, 1), chunked), kiln::Error);
}

TEST(Gpt, Gpt2SmallHasGpt2sParametersUnderGpt2sNames) {
  Gpt gpt(GptOptions{});  // the defaults are GPT-2 small's
  // 124,439,808: GPT-2 small with its 1024 learned positions and the output
  // layer tied to the token embedding (counted once).
  EXPECT_EQ(gpt.num_parameters(), 124439808);
  auto params = params_of(gpt);
  EXPECT_EQ(params.size(), 2u + 12u * 12u + 2u);
  EXPECT_EQ(params.at("transformer.wte.weight").sizes(), (std::vector<std::int64_t>{50257, 768}));
  EXPECT_EQ(params.at("transformer.h.11.attn.c_attn.weight").sizes(), (std::vector<std::int64_t>{2304, 768}));
  EXPECT_EQ(params.at("transformer.h.0.mlp.c_fc.bias").sizes(), (std::vector<std::int64_t>{3072}));
  EXPECT_EQ(params.count("lm_head.weight"), 0u);
}

TEST(Gpt, InitialisesAsGpt2WithScaledResidualProjections) {
  torch::manual_seed(3);
  GptOptions o;
  o.vocab_size = 512;
  o.block_size = 64;
  o.n_layer = 8;
  o.n_head = 4;
  o.n_embd = 256;
  Gpt gpt(o);
  auto p = params_of(gpt);
  const double residual_std = 0.02 / std::sqrt(2.0 * 8);
  EXPECT_NEAR(p["transformer.h.3.attn.c_proj.weight"].std().item<double>(), residual_std, residual_std * 0.03);
  EXPECT_NEAR(p["transformer.h.5.mlp.c_proj.weight"].std().item<double>(), residual_std, residual_std * 0.03);
  EXPECT_NEAR(p["transformer.h.5.mlp.c_fc.weight"].std().item<double>(), 0.02, 0.02 * 0.03);
  EXPECT_NEAR(p["transformer.wte.weight"].std().item<double>(), 0.02, 0.02 * 0.03);
  EXPECT_EQ(p["transformer.h.2.attn.c_attn.bias"].abs().max().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(p["transformer.h.2.ln_1.weight"], torch::ones({256})));
}

TEST(Gpt, WithoutBiasHasNoBiasParameters) {
  GptOptions o = tiny();
  o.bias = false;
  Gpt gpt(o);
  for (const auto& item : gpt.named_parameters()) EXPECT_EQ(item.key().find("bias"), std::string::npos) << item.key();
  EXPECT_EQ(gpt.forward(torch::zeros({1, 4}, torch::kLong)).sizes(), (std::vector<std::int64_t>{1, 4, 11}));
}

TEST(Gpt, RefusesBadShapesWithTheReason) {
  GptOptions o = tiny();
  o.n_embd = 15;
  EXPECT_THROW(Gpt{o}, kiln::InvalidParam);
  Gpt gpt(tiny());
  try {
    gpt.forward(torch::zeros({1, 9}, torch::kLong));
    FAIL();
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("9 positions exceed block_size 8"), std::string::npos) << e.what();
  }
  try {
    gpt.forward(torch::zeros({1, 4}, torch::kFloat));
    FAIL();
  } catch (const kiln::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected token ids as an int64 tensor"), std::string::npos) << e.what();
  }
}

}  // namespace
