#!/usr/bin/python3
"""Checks kiln's safetensors files against an independent reader and writer.

Uses only json, struct and torch.frombuffer (Debian's python3-torch has no
safetensors package), i.e. exactly the snippet docs/formats.md gives users.

  safetensors_interop.py check FILE   read FILE (written by kiln) and compare
                                      every tensor with expected(); exit 1 on
                                      any difference
  safetensors_interop.py write FILE   write expected() the way another writer
                                      might: tensors in name order (so some
                                      are unaligned), pretty-printed JSON, no
                                      padding, header keys in reverse order

expected() must match interop_tensors() in safetensors_test.cpp.
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}
METADATA = {"format": "pt", "note": 'h\u00e9llo "quoted"\n'}


def expected():
    return {
        "f64": torch.arange(6, dtype=torch.float64).reshape(2, 3) / 3,
        "f32": torch.arange(6, dtype=torch.float32).reshape(3, 2) * -1.5,
        "f16": torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -0.0078125, 2.0**100], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2**63), 2**63 - 1, 0], dtype=torch.int64),
        "i32": torch.tensor([[-(2**31)], [2**31 - 1]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "empty": torch.zeros(2, 0, dtype=torch.float32),
        "scalar": torch.tensor(3.25, dtype=torch.float64),
        "transposed": torch.arange(12, dtype=torch.float32).reshape(3, 4).t().contiguous(),
    }


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        if end == begin:
            tensors[name] = torch.empty(info["shape"], dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype).reshape(info["shape"])
    return tensors, metadata, n


def check(path):
    tensors, metadata, n = load(path)
    problems = []
    if n % 8 != 0:
        problems.append(f"header length {n} is not a multiple of 8")
    if metadata != METADATA:
        problems.append(f"metadata {metadata!r} != {METADATA!r}")
    want = expected()
    if sorted(tensors) != sorted(want):
        problems.append(f"names {sorted(tensors)} != {sorted(want)}")
    for name, tensor in want.items():
        got = tensors.get(name)
        if got is None:
            continue
        if got.dtype != tensor.dtype or got.shape != tensor.shape or not torch.equal(got, tensor):
            problems.append(f"{name}: got {got!r}, want {tensor!r}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def write(path):
    header, chunks, offset = {}, [], 0
    for name, tensor in sorted(expected().items()):
        raw = tensor.contiguous().numpy().tobytes() if tensor.dtype != torch.bfloat16 else \
            tensor.contiguous().view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = METADATA
    text = json.dumps(dict(reversed(list(header.items()))), indent=1).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
    return 0


if __name__ == "__main__":
    mode, file = sys.argv[1], sys.argv[2]
    sys.exit(check(file) if mode == "check" else write(file))
