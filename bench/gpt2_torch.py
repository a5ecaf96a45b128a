"""The PyTorch side of bench/gpt2_gpu.sh: the same GPT, data and optimizer as
kiln_gpt2_train_bench (bench/gpt2_train.cpp), as a plain eager PyTorch script,
optionally under torch.compile.

Same model: GPT-2 (configs/model/gpt2.yaml or gpt_tiny.yaml), learned
positions, pre-LayerNorm blocks, tanh GELU, tied embeddings, GPT-2's
initialisation (values differ: another generator). Same data: kiln's
synthetic_tokens windows, bit for bit (SplitMix64 as in
src/data/token_windows.cpp). Same optimizer: AdamW (0.9, 0.95), eps 1e-8,
weight decay 0.1 on matrices only (nanoGPT's grouping; the gpt2 recipe's
optimizer.weight_decay_1d: false), constant lr 6e-4,
gradient clipping at norm 1.0; bf16 autocast on CUDA with --precision bf16-mixed.

Prints one line:
  impl=torch|torch_compile tokens_per_s=... ms_per_step=... peak_mem_mb=... loss=... first_step_s=... params=... flops_per_token=...

usage: python3 bench/gpt2_torch.py [--model gpt2|gpt_tiny] [--batch 16] [--steps 50] [--warmup 10]
         [--device cuda|cpu] [--precision bf16-mixed|32] [--compile] [--threads N] [--seed 42]
"""

import argparse
import contextlib
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "gpt2": dict(vocab_size=50257, block_size=1024, n_layer=12, n_head=12, n_embd=768),
    "gpt_tiny": dict(vocab_size=256, block_size=64, n_layer=4, n_head=4, n_embd=128),
}

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def finalise(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def mix64(x):
    return finalise(x + GOLDEN)


def synthetic_windows(seed, epoch, first, count, length, vocab):
    """kiln's SyntheticWindows: windows [first, first + count) of an epoch."""
    with np.errstate(over="ignore"):
        epoch_seed = mix64(mix64(np.uint64(seed)) ^ np.uint64(epoch))
        state = mix64(epoch_seed + np.arange(first, first + count, dtype=np.uint64))[:, None]
        steps = np.arange(1, length + 1, dtype=np.uint64)[None, :] * GOLDEN
        draws = finalise(state + steps)
        return ((draws >> np.uint64(32)) * np.uint64(vocab)) >> np.uint64(32)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["n_head"]
        self.ln_1 = nn.LayerNorm(c["n_embd"])
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"])
        self.attn_proj = nn.Linear(c["n_embd"], c["n_embd"])
        self.ln_2 = nn.LayerNorm(c["n_embd"])
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"])
        self.mlp_proj = nn.Linear(4 * c["n_embd"], c["n_embd"])

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch 1.13
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            y = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        x = x + self.attn_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["block_size"], c["n_embd"])
        self.h = nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
        self.ln_f = nn.LayerNorm(c["n_embd"])
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        for block in self.h:
            for proj in (block.attn_proj, block.mlp_proj):
                nn.init.normal_(proj.weight, 0.0, 0.02 / math.sqrt(2 * c["n_layer"]))

    def forward(self, idx):
        pos = torch.arange(idx.size(1), device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="gpt2", choices=sorted(PRESETS))
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--device", default="cuda")
    p.add_argument("--precision", default="bf16-mixed", choices=["bf16-mixed", "32"])
    p.add_argument("--compile", action="store_true")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    cuda = a.device.startswith("cuda")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    c = PRESETS[a.model]
    torch.manual_seed(a.seed)
    model = GPT(c).to(a.device)
    params = sum(p.numel() for p in model.parameters())
    n = params - c["block_size"] * c["n_embd"]
    head = c["n_embd"] // c["n_head"]
    flops_per_token = 6 * n + 12 * c["n_layer"] * c["n_head"] * head * c["block_size"]
    step_model = torch.compile(model) if a.compile else model
    extra = {"fused": True} if cuda and "fused" in torch.optim.AdamW.__init__.__code__.co_varnames else {}
    groups = [{"params": [p for p in model.parameters() if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in model.parameters() if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, **extra)
    autocast = (torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16)
                if a.precision == "bf16-mixed" else contextlib.nullcontext())
    total = a.warmup + a.steps
    length = c["block_size"] + 1
    losses = []

    def sync():
        if cuda:
            torch.cuda.synchronize()

    start = time.perf_counter()
    for step in range(total):
        windows = synthetic_windows(a.seed, 0, step * a.batch, a.batch, length, c["vocab_size"])
        batch = torch.from_numpy(windows.astype(np.int64)).to(a.device, non_blocking=True)
        x, y = batch[:, :-1], batch[:, 1:]
        with autocast:
            logits = step_model(x)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.detach())
        if step == 0:
            sync()
            first_step_s = time.perf_counter() - start
        if step + 1 == a.warmup:
            sync()
            window_start = time.perf_counter()
    sync()
    seconds = time.perf_counter() - window_start
    loss = torch.stack(losses[-10:]).float().mean().item()
    peak = torch.cuda.max_memory_allocated() / 1e6 if cuda else 0.0
    tokens = a.batch * a.steps * c["block_size"]
    print(f"impl={'torch_compile' if a.compile else 'torch'} tokens_per_s={tokens / seconds:.1f} "
          f"ms_per_step={1000 * seconds / a.steps:.3f} peak_mem_mb={peak:.1f} loss={loss:.4f} "
          f"first_step_s={first_step_s:.3f} params={params} flops_per_token={flops_per_token:.6e}")


if __name__ == "__main__":
    main()
