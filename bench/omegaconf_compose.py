#!/usr/bin/python3
"""The OmegaConf baseline for bench/config_bench: compose + resolve kiln's
default config with five overrides, the way an OmegaConf user would by hand
(OmegaConf has no defaults lists): OmegaConf.load each file of the defaults
tree, merge them at their packages, merge from_dotlist(overrides), and
to_container(resolve=True). Prints the mean microseconds per iteration.

usage: omegaconf_compose.py CONFIG_DIR ITERATIONS
"""
import sys
import time

from omegaconf import OmegaConf

config_dir, iterations = sys.argv[1], int(sys.argv[2])
# The defaults tree of configs/train.yaml with optimizer=sgd selected.
groups = [("model", "cnn"), ("optimizer", "sgd"), ("scheduler", "cosine"), ("data", "fashion_mnist"),
          ("trainer", "default")]
overrides = ["optimizer.lr=0.1", "trainer.max_epochs=5", "model.dropout=0.2", "seed=123"]


def compose():
    parts = [OmegaConf.create({group: OmegaConf.load(f"{config_dir}/{group}/{option}.yaml")})
             for group, option in groups]
    primary = OmegaConf.load(f"{config_dir}/train.yaml")
    del primary["defaults"]
    cfg = OmegaConf.merge(*parts, primary, OmegaConf.from_dotlist(overrides))
    return OmegaConf.to_container(cfg, resolve=True)


result = compose()
assert result["optimizer"]["lr"] == 0.1 and result["run"]["name"] == "cnn-sgd-lr0.1", result
start = time.perf_counter()
for _ in range(iterations):
    compose()
elapsed = time.perf_counter() - start
print(f"{elapsed / iterations * 1e6:.1f}")
