// GPT: the GPT-2 architecture, registered as the model `gpt`.
//
//   token + learned position embeddings -> n_layer pre-LayerNorm blocks
//   (causal self-attention, then a tanh-GELU MLP of width 4 * n_embd, each
//   added to the residual stream) -> final LayerNorm -> logits through the
//   token embedding's own weight (tied input/output embeddings).
//
// Parameter names follow GPT-2's checkpoints as Hugging Face and nanoGPT
// spell them (transformer.wte.weight, transformer.h.0.attn.c_attn.weight,
// ...), with PyTorch's Linear layout ([out, in]); the output layer has no
// parameter of its own. Initialisation is GPT-2's: N(0, 0.02) for weights and
// embeddings, zero biases, and N(0, 0.02 / sqrt(2 * n_layer)) for the two
// projections that write into the residual stream.
//
// Attention runs through scaled_dot_product_attention on LibTorch 2.x (its
// flash and memory-efficient kernels on CUDA) and through an explicit masked
// softmax on LibTorch 1.13, which has no fused attention.
//
//   auto gpt = kiln::models::make_gpt({.n_layer = 2, .n_head = 2, .n_embd = 64, .block_size = 32});
//   torch::Tensor logits = gpt->forward(tokens);   // [B, T] int64 -> [B, T, vocab_size]
//
// Generation feeds tokens one step at a time through a KvCache, so each new
// token costs one position's work rather than the whole context's:
//
//   KvCache cache = gpt->new_cache();
//   auto logits = gpt->forward_cached(prompt, cache);   // [B, T] -> [B, T, V]
//   logits = gpt->forward_cached(next_token, cache);    // [B, 1] -> [B, 1, V]
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kiln/models/dropout.h"
#include "kiln/models/network.h"

namespace kiln::models {

class GptBlock;
class GptLayerNorm;

struct GptOptions {
  std::int64_t vocab_size = 50257;  // GPT-2's BPE; 256 for byte-level tokens
  std::int64_t block_size = 1024;   // longest context (positions embedded)
  std::int64_t n_layer = 12;
  std::int64_t n_head = 12;
  std::int64_t n_embd = 768;  // a multiple of n_head
  double dropout = 0.0;       // on embeddings, attention weights and residual branches
  bool bias = true;           // biases in Linear and LayerNorm layers, as GPT-2
};

// Keys and values of every layer for the positions seen so far, for
// generation. Owned by the caller; one cache per sequence batch.
struct KvCache {
  std::vector<torch::Tensor> keys, values;  // per layer: [B, n_head, length, head_dim]
  std::int64_t length = 0;                  // positions cached
};

class Gpt : public Network {
 public:
  // Throws kiln::InvalidParam (n_embd not a multiple of n_head).
  explicit Gpt(const GptOptions& options);

  // Logits [B, T, vocab_size] for tokens [B, T] (int64, T <= block_size).
  // Throws kiln::Error naming the shape for anything else.
  torch::Tensor forward(const torch::Tensor& tokens) override;
  std::vector<std::shared_ptr<torch::nn::Module>> sharding_units() override;
  // Logits for `tokens` [B, T] that continue the positions in `cache`, which
  // it extends by T. Throws kiln::Error when cache.length + T > block_size.
  torch::Tensor forward_cached(const torch::Tensor& tokens, KvCache& cache);
  KvCache new_cache() const;

  const GptOptions& options() const { return options_; }
  // Parameters, the tied embedding counted once.
  std::int64_t num_parameters() const;

 private:
  torch::Tensor run(const torch::Tensor& tokens, KvCache* cache);

  GptOptions options_;
  torch::nn::Embedding wte_{nullptr}, wpe_{nullptr};
  std::vector<std::shared_ptr<GptBlock>> blocks_;
  std::shared_ptr<GptLayerNorm> ln_f_;
  Dropout drop_{nullptr};
};

std::shared_ptr<Gpt> make_gpt(const GptOptions& options);

}  // namespace kiln::models
