"""The Python baseline of kiln_python_parity_bench: a plain eager PyTorch loop.

Trains kiln's built-in `mlp` and `cnn` (same layers and shapes as
src/models/mlp.cpp and cnn.cpp with the defaults of configs/model/*.yaml)
on Fashion-MNIST read from the Debian package's IDX files, with AdamW
(configs/optimizer/adamw.yaml), fp32, in train mode (dropout on):

    per step: x, y = X[idx], Y[idx]   (a shuffled batch of pre-normalised images)
              opt.zero_grad(); loss = cross_entropy(model(x), y); loss.backward(); opt.step()

WARMUP steps first, then STEPS timed steps. Prints one line per model:
    model=mlp samples_per_s=... steps=... samples=... seconds=...
and with --breakdown the time per phase of a step (data, zero_grad, forward + loss, backward, step).

usage: /usr/bin/python3 bench/pytorch_loop.py --models mlp,cnn --steps 300 --warmup 20
       --batch-size 128 --threads 2 --mean 0.2860 --std 0.3530 [--root DIR] [--foreach] [--breakdown]
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    """An IDX file (gzip) as a numpy array of its shape (uint8 data)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mlp():
    # kiln: Flatten, then Linear + ReLU + Dropout per hidden width, then a Linear head.
    return nn.Sequential(
        nn.Flatten(1),
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(128, 10),
    )


def cnn():
    # kiln: per width Conv3x3 (padding 1) + ReLU + MaxPool2; Linear(hidden) + ReLU + Dropout; Linear head.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(1),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.1),
        nn.Linear(128, 10),
    )


def run(name, images, labels, args):
    torch.manual_seed(42)
    model = {"mlp": mlp, "cnn": cnn}[name]()
    model.train()
    # foreach=None is PyTorch 1.13's default: on CPU, one parameter at a time.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                            foreach=True if args.foreach else None)
    n = images.shape[0]
    generator = torch.Generator().manual_seed(42)
    order, position = torch.randperm(n, generator=generator), 0
    samples = 0
    start = None
    phases = [0.0] * 5  # data, zero_grad, forward + loss, backward, step
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
            samples = 0
        if position >= n:  # a new epoch, as kiln's loader (the last batch may be smaller)
            order, position = torch.randperm(n, generator=generator), 0
        idx = order[position : position + args.batch_size]
        position += args.batch_size
        t0 = time.perf_counter()
        x, y = images[idx], labels[idx]
        t1 = time.perf_counter()
        opt.zero_grad()
        t2 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        t3 = time.perf_counter()
        loss.backward()
        t4 = time.perf_counter()
        opt.step()
        t5 = time.perf_counter()
        if step >= args.warmup:
            for i, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                phases[i] += dt
        samples += x.shape[0]
    seconds = time.perf_counter() - start
    print(f"model={name} samples_per_s={samples / seconds:.3f} steps={args.steps} samples={samples} "
          f"seconds={seconds:.6f}", flush=True)
    if args.breakdown:
        ms = [1000 * p / args.steps for p in phases]
        print(f"  {name} per step (ms): data {ms[0]:.3f}  zero_grad {ms[1]:.3f}  forward+loss {ms[2]:.3f}  "
              f"backward {ms[3]:.3f}  step {ms[4]:.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--mean", type=float, default=0.2860)
    parser.add_argument("--std", type=float, default=0.3530)
    parser.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--foreach", action="store_true", help="AdamW(foreach=True): the multi-tensor step")
    parser.add_argument("--breakdown", action="store_true", help="also print the time per phase of a step")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    images = read_idx(os.path.join(args.root, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.root, "train-labels-idx1-ubyte.gz"))
    # torchvision's ToTensor + Normalize, as kiln's FashionMnistDataModule: pixel / 255, then (x - mean) / std.
    images = (torch.from_numpy(images.copy()).float().div_(255).sub_(args.mean).div_(args.std)).unsqueeze(1)
    labels = torch.from_numpy(labels.astype(np.int64))
    for name in args.models.split(","):
        run(name, images, labels, args)


if __name__ == "__main__":
    main()
