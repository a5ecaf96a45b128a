"""The PyTorch baseline of loader_bench: a torch.utils.data.DataLoader over
the same kiln shards, reading each sample's members at the offsets Python's
tarfile finds and decoding them with numpy, as a webdataset-style map
dataset would. Prints "samples N seconds S" for one epoch.

usage: loader_dataloader.py MANIFEST BATCH_SIZE NUM_WORKERS
"""
import io
import json
import os
import sys
import tarfile
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class Shards(Dataset):
    def __init__(self, manifest):
        folder = os.path.dirname(manifest)
        self.samples = []  # (path, npy offset, npy size, cls offset, cls size)
        for shard in json.load(open(manifest))["shards"]:
            path = os.path.join(folder, shard["tar"])
            members = {}
            with tarfile.open(path) as tar:
                for m in tar.getmembers():
                    key, ext = os.path.basename(m.name).split(".", 1)
                    members.setdefault(key, {})[ext] = (m.offset_data, m.size)
            for key in sorted(members):
                f = members[key]
                self.samples.append((path, *f["input.npy"], *f["cls"]))
        self.files = {}

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        path, npy_at, npy_size, cls_at, cls_size = self.samples[i]
        f = self.files.get(path)
        if f is None:
            f = self.files[path] = open(path, "rb")
        f.seek(npy_at)
        x = torch.from_numpy(np.load(io.BytesIO(f.read(npy_size))))
        f.seek(cls_at)
        return x, int(f.read(cls_size))


def main():
    manifest, batch, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(1)
    loader = DataLoader(Shards(manifest), batch_size=batch, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    for _ in loader:  # warm-up epoch: worker start-up and page cache
        break
    start = time.perf_counter()
    n = 0
    for x, y in loader:
        n += x.shape[0]
    print(f"samples {n} seconds {time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
