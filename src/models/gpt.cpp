#include "kiln/models/gpt.h"

#include <cmath>
#include <string>

#include "kiln/error.h"
#include "kiln/torch_compat.h"

namespace kiln::models {

// LayerNorm over the last dimension whose bias is optional (GPT-2 has one;
// bias: false drops it, which LibTorch's LayerNorm cannot).
class GptLayerNorm : public torch::nn::Module {
 public:
  GptLayerNorm(std::int64_t width, bool bias)
      : width_(width),
        weight_(register_parameter("weight", torch::ones({width}))),
        bias_(bias ? register_parameter("bias", torch::zeros({width})) : torch::Tensor()) {}

  torch::Tensor forward(const torch::Tensor& x) { return torch::layer_norm(x, {width_}, weight_, bias_, 1e-5); }

 private:
  std::int64_t width_;
  torch::Tensor weight_, bias_;
};

// Causal self-attention: one Linear makes q, k and v (GPT-2's c_attn), one
// projects the heads back into the residual stream (c_proj).
class GptAttention : public torch::nn::Module {
 public:
  explicit GptAttention(const GptOptions& o)
      : n_head_(o.n_head),
        dropout_(o.dropout),
        c_attn_(register_module("c_attn",
                                torch::nn::Linear(torch::nn::LinearOptions(o.n_embd, 3 * o.n_embd).bias(o.bias)))),
        c_proj_(
            register_module("c_proj", torch::nn::Linear(torch::nn::LinearOptions(o.n_embd, o.n_embd).bias(o.bias)))),
        resid_drop_(register_module("resid_dropout", Dropout(o.dropout))) {}

  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* cached_keys, torch::Tensor* cached_values) {
    const std::int64_t batch = x.size(0), steps = x.size(1), width = x.size(2);
    // [B, T, 3C] -> three [B, n_head, T, head_dim]
    std::vector<torch::Tensor> qkv = c_attn_->forward(x).split(width, 2);
    auto heads = [&](const torch::Tensor& t) {
      return t.view({batch, steps, n_head_, width / n_head_}).transpose(1, 2);
    };
    torch::Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
    torch::Tensor attend;
    bool is_causal = true;
    if (cached_keys) {
      const std::int64_t past = cached_keys->defined() ? cached_keys->size(2) : 0;
      if (past > 0) {
        k = torch::cat({*cached_keys, k}, 2);
        v = torch::cat({*cached_values, v}, 2);
        // New position i (absolute past + i) sees keys 0..past + i:
        // bottom-right aligned, which is_causal (top-left) is not.
        is_causal = false;
        if (steps > 1) attend = torch::ones({steps, past + steps}, x.options().dtype(torch::kBool)).tril(past);
      }
      *cached_keys = k;
      *cached_values = v;
    }
    torch::Tensor y = compat::scaled_dot_product_attention(q, k, v, attend, is_training() ? dropout_ : 0.0, is_causal);
    y = y.transpose(1, 2).contiguous().view({batch, steps, width});
    return resid_drop_->forward(c_proj_->forward(y));
  }

  torch::nn::Linear& c_proj() { return c_proj_; }

 private:
  std::int64_t n_head_;
  double dropout_;
  torch::nn::Linear c_attn_, c_proj_;
  Dropout resid_drop_;
};

// The position-wise MLP: n_embd -> 4 n_embd, GELU (GPT-2's tanh
// approximation), -> n_embd.
class GptMlp : public torch::nn::Module {
 public:
  explicit GptMlp(const GptOptions& o)
      : c_fc_(
            register_module("c_fc", torch::nn::Linear(torch::nn::LinearOptions(o.n_embd, 4 * o.n_embd).bias(o.bias)))),
        c_proj_(register_module("c_proj",
                                torch::nn::Linear(torch::nn::LinearOptions(4 * o.n_embd, o.n_embd).bias(o.bias)))),
        drop_(register_module("dropout", Dropout(o.dropout))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    return drop_->forward(c_proj_->forward(torch::gelu(c_fc_->forward(x), "tanh")));
  }

  torch::nn::Linear& c_proj() { return c_proj_; }

 private:
  torch::nn::Linear c_fc_, c_proj_;
  Dropout drop_;
};

class GptBlock : public torch::nn::Module {
 public:
  explicit GptBlock(const GptOptions& o)
      : ln_1_(register_module("ln_1", layer_norm(o))),
        attn_(register_module("attn", std::make_shared<GptAttention>(o))),
        ln_2_(register_module("ln_2", layer_norm(o))),
        mlp_(register_module("mlp", std::make_shared<GptMlp>(o))) {}

  torch::Tensor forward(torch::Tensor x, torch::Tensor* cached_keys, torch::Tensor* cached_values) {
    x = x + attn_->forward(ln_1_->forward(x), cached_keys, cached_values);
    return x + mlp_->forward(ln_2_->forward(x));
  }

  // The two projections that add into the residual stream.
  std::vector<torch::Tensor> residual_projection_weights() { return {attn_->c_proj()->weight, mlp_->c_proj()->weight}; }

  static std::shared_ptr<GptLayerNorm> layer_norm(const GptOptions& o) {
    return std::make_shared<GptLayerNorm>(o.n_embd, o.bias);
  }

 private:
  std::shared_ptr<GptLayerNorm> ln_1_;
  std::shared_ptr<GptAttention> attn_;
  std::shared_ptr<GptLayerNorm> ln_2_;
  std::shared_ptr<GptMlp> mlp_;
};

Gpt::Gpt(const GptOptions& o) : options_(o) {
  if (o.n_embd % o.n_head != 0)
    throw InvalidParam("n_embd", "n_embd (" + std::to_string(o.n_embd) + ") must be a multiple of n_head (" +
                                     std::to_string(o.n_head) + ")");
  // Submodules live under `transformer`, as in GPT-2's checkpoints.
  auto transformer = register_module("transformer", std::make_shared<torch::nn::Module>());
  wte_ = transformer->register_module("wte", torch::nn::Embedding(o.vocab_size, o.n_embd));
  wpe_ = transformer->register_module("wpe", torch::nn::Embedding(o.block_size, o.n_embd));
  drop_ = transformer->register_module("drop", Dropout(o.dropout));
  auto h = transformer->register_module("h", std::make_shared<torch::nn::Module>());
  for (std::int64_t i = 0; i < o.n_layer; ++i)
    blocks_.push_back(h->register_module(std::to_string(i), std::make_shared<GptBlock>(o)));
  ln_f_ = transformer->register_module("ln_f", GptBlock::layer_norm(o));

  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(linear->weight, 0.0, 0.02);
      if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
    } else if (auto* embedding = module->as<torch::nn::Embedding>()) {
      torch::nn::init::normal_(embedding->weight, 0.0, 0.02);
    }
  }
  // GPT-2 scales the residual projections by 1/sqrt(number of residual
  // additions) so the stream's variance does not grow with depth.
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(o.n_layer));
  for (auto& block : blocks_)
    for (torch::Tensor& weight : block->residual_projection_weights())
      torch::nn::init::normal_(weight, 0.0, residual_std);
}

torch::Tensor Gpt::forward(const torch::Tensor& tokens) { return run(tokens, nullptr); }

// The blocks; the embeddings (tied to the output layer, so used at both
// ends of the step) and the final LayerNorm stay gathered, as FSDP's root.
std::vector<std::shared_ptr<torch::nn::Module>> Gpt::sharding_units() { return {blocks_.begin(), blocks_.end()}; }

torch::Tensor Gpt::forward_cached(const torch::Tensor& tokens, KvCache& cache) { return run(tokens, &cache); }

KvCache Gpt::new_cache() const {
  KvCache cache;
  cache.keys.resize(blocks_.size());
  cache.values.resize(blocks_.size());
  return cache;
}

torch::Tensor Gpt::run(const torch::Tensor& tokens, KvCache* cache) {
  if (tokens.dim() != 2 || tokens.scalar_type() != torch::kLong)
    throw Error("gpt: expected token ids as an int64 tensor [batch, sequence], got " +
                std::string(c10::toString(tokens.scalar_type())) + " of " + std::to_string(tokens.dim()) +
                " dimensions");
  const std::int64_t past = cache ? cache->length : 0;
  const std::int64_t steps = tokens.size(1);
  if (past + steps > options_.block_size)
    throw Error("gpt: " + std::to_string(past + steps) + " positions exceed block_size " +
                std::to_string(options_.block_size) + (cache ? " (cached and new)" : ""));
  if (cache && cache->keys.size() != blocks_.size())
    throw Error("gpt: the KvCache has " + std::to_string(cache->keys.size()) + " layers, the model " +
                std::to_string(blocks_.size()) + " (make it with new_cache())");
  torch::Tensor positions = torch::arange(past, past + steps, tokens.options());
  torch::Tensor x = drop_->forward(wte_->forward(tokens) + wpe_->forward(positions));
  for (std::size_t i = 0; i < blocks_.size(); ++i)
    x = run_unit(*blocks_[i], [&] {
      return blocks_[i]->forward(x, cache ? &cache->keys[i] : nullptr, cache ? &cache->values[i] : nullptr);
    });
  if (cache) cache->length = past + steps;
  // Tied output layer: logits against the token embedding.
  return torch::nn::functional::linear(ln_f_->forward(x), wte_->weight);
}

std::int64_t Gpt::num_parameters() const {
  std::int64_t total = 0;
  for (const torch::Tensor& p : parameters()) total += p.numel();
  return total;
}

std::shared_ptr<Gpt> make_gpt(const GptOptions& options) { return std::make_shared<Gpt>(options); }

}  // namespace kiln::models
