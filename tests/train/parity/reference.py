#!/usr/bin/python3
"""Reference values for kiln's optimizer and scheduler parity tests.

Run by tests/train/optim_test.cpp and tests/train/sched_test.cpp (once per
test binary, with Debian's /usr/bin/python3 and its torch 1.13). Every case
pairs a kiln config node (flow YAML) with the same setting in PyTorch and
prints what PyTorch computes. One record per line, fields separated by tabs:

  tensor  NAME  SHAPE  VALUES             initial parameters and gradients
  sched   NAME  CONFIG  BASE_LR  TOTAL_STEPS  VALUES
  optim   NAME  CONFIG  LRS  VALUES

SHAPE and VALUES are space-separated; floats are printed with repr(), which
reads back to the same double. A sched record's VALUES are the lr before
each of the first len(VALUES) optimizer steps (step 0, 1, ...). An optim
record's VALUES are the parameters after 20 steps (w then b, flattened); LRS
is "-" or the lr set before each step (kiln: apply_lr; PyTorch: group['lr']).

Sources of truth: torch.optim and torch.optim.lr_scheduler, except two
cases that PyTorch has no scheduler for, computed from a hand formula here
and marked HAND below: constant with warmup and cosine with warmup.

Exit status 3 (the tests then skip, visibly) when torch cannot be imported.
"""
import math
import sys
import warnings

try:
    import torch
except ImportError as e:  # pragma: no cover
    print("reference.py: cannot import torch: %s" % e, file=sys.stderr)
    sys.exit(3)

warnings.simplefilter("ignore")
torch.set_default_dtype(torch.float32)

STEPS = 20  # optimizer steps per optim case


def flow(value):
    """A Python value as one-line YAML (the kiln config of a case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (k, flow(v)) for k, v in value.items()) + "}"
    return str(value)


def numbers(values):
    return " ".join(repr(float(v)) for v in values)


def emit(*fields):
    print("\t".join(str(f) for f in fields))


# ---------------------------------------------------------------------------
# Schedulers: the lr PyTorch sets before each optimizer step.

def torch_lrs(make_scheduler, base_lr, n):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_scheduler(opt)
    out = []
    for s in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if s + 1 < n:
            sched.step()
    return out


def hand_warmup_cosine(base_lr, total, warmup, min_lr, n):
    # HAND: linear warmup from 0, then CosineAnnealingLR's closed form over
    # the remaining total - warmup steps, min_lr from total on.
    out = []
    for s in range(n):
        if s < warmup:
            out.append(base_lr * s / warmup)
        elif s >= total:
            out.append(min_lr)
        else:
            t = (s - warmup) / (total - warmup)
            out.append(min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t)) / 2)
    return out


LS = torch.optim.lr_scheduler


def sched_cases():
    # (name, kiln config, base_lr, total_steps, values)
    yield ("constant", {"_target_": "constant"}, 0.1, 100,
           torch_lrs(lambda o: LS.LambdaLR(o, lambda s: 1.0), 0.1, 100))
    # HAND, run through LambdaLR: factor s / 10 during the warmup.
    yield ("constant_warmup", {"_target_": "constant", "warmup_steps": 10}, 0.1, 100,
           torch_lrs(lambda o: LS.LambdaLR(o, lambda s: min(1.0, s / 10)), 0.1, 100))
    # total_steps + 1 values: the last is the lr at step total_steps (eta_min).
    yield ("cosine", {"_target_": "cosine"}, 0.1, 100,
           torch_lrs(lambda o: LS.CosineAnnealingLR(o, T_max=100), 0.1, 101))
    yield ("cosine_min_lr", {"_target_": "cosine", "min_lr": 0.001}, 0.05, 37,
           torch_lrs(lambda o: LS.CosineAnnealingLR(o, T_max=37, eta_min=0.001), 0.05, 38))
    yield ("cosine_warmup", {"_target_": "cosine", "warmup_steps": 10, "min_lr": 0.001}, 0.1, 100,
           hand_warmup_cosine(0.1, 100, 10, 0.001, 110))
    yield ("step", {"_target_": "step", "step_size": 10, "gamma": 0.5}, 0.1, 100,
           torch_lrs(lambda o: LS.StepLR(o, step_size=10, gamma=0.5), 0.1, 100))
    yield ("step_7", {"_target_": "step", "step_size": 7, "gamma": 0.1}, 1.0, 0,
           torch_lrs(lambda o: LS.StepLR(o, step_size=7, gamma=0.1), 1.0, 100))
    yield ("step_every", {"_target_": "step", "step_size": 1, "gamma": 0.95}, 0.1, 100,
           torch_lrs(lambda o: LS.StepLR(o, step_size=1, gamma=0.95), 0.1, 100))
    # cycle_momentum=False: kiln's schedules set the lr only.
    yield ("onecycle", {"_target_": "onecycle"}, 0.1, 100,
           torch_lrs(lambda o: LS.OneCycleLR(o, max_lr=0.1, total_steps=100, cycle_momentum=False), 0.1, 100))
    yield ("onecycle_linear",
           {"_target_": "onecycle", "max_lr": 1.0, "pct_start": 0.25, "div_factor": 10.0,
            "final_div_factor": 100.0, "anneal_strategy": "linear"}, 0.1, 100,
           torch_lrs(lambda o: LS.OneCycleLR(o, max_lr=1.0, total_steps=100, pct_start=0.25, div_factor=10.0,
                                             final_div_factor=100.0, anneal_strategy="linear",
                                             cycle_momentum=False), 0.1, 100))
    yield ("onecycle_three_phase", {"_target_": "onecycle", "max_lr": 0.5, "three_phase": True}, 0.1, 100,
           torch_lrs(lambda o: LS.OneCycleLR(o, max_lr=0.5, total_steps=100, three_phase=True,
                                             cycle_momentum=False), 0.1, 100))
    yield ("onecycle_odd", {"_target_": "onecycle", "pct_start": 0.4}, 0.02, 37,
           torch_lrs(lambda o: LS.OneCycleLR(o, max_lr=0.02, total_steps=37, pct_start=0.4,
                                             cycle_momentum=False), 0.02, 37))


# ---------------------------------------------------------------------------
# Optimizers: two parameter tensors and a fixed gradient sequence.

def formula(shape, f):
    n = 1
    for d in shape:
        n *= d
    # Computed in double, then rounded to float32 (printed exactly).
    return torch.tensor([f(i) for i in range(n)], dtype=torch.float64).reshape(shape).float()


INIT = {
    "w": formula([2, 3], lambda i: 0.5 * math.cos(1.1 * i + 0.3)),
    "b": formula([3], lambda i: 0.1 * (i - 1)),
}


def grad(t, name):
    shape = list(INIT[name].shape)
    shift = 0.0 if name == "w" else 2.0
    # Varying sign and scale, so momentum and the Adam moments matter.
    return formula(shape, lambda i: math.sin(0.7 * (t + 1) + 1.3 * i + shift) * (1 + 0.1 * t))


def torch_final(make_optimizer, lrs):
    params = {k: v.clone().requires_grad_(True) for k, v in INIT.items()}
    opt = make_optimizer([params["w"], params["b"]])
    for t in range(STEPS):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[t]
        for name, p in params.items():
            p.grad = grad(t, name)
        opt.step()
    return [v for name in ("w", "b") for v in params[name].detach().reshape(-1).tolist()]


def optim_cases():
    O = torch.optim
    decay = [0.05 * (1 - t / 25) for t in range(STEPS)]
    # (name, kiln config, lrs or None, torch constructor)
    yield ("sgd", {"_target_": "sgd", "lr": 0.1}, None, lambda p: O.SGD(p, lr=0.1))
    yield ("sgd_momentum",
           {"_target_": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, None,
           lambda p: O.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01))
    yield ("sgd_nesterov",
           {"_target_": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}, None,
           lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4))
    yield ("sgd_momentum_scheduled", {"_target_": "sgd", "lr": 0.05, "momentum": 0.9}, decay,
           lambda p: O.SGD(p, lr=0.05, momentum=0.9))
    yield ("adam", {"_target_": "adam", "lr": 0.01}, None, lambda p: O.Adam(p, lr=0.01))
    yield ("adam_all",
           {"_target_": "adam", "lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1,
            "amsgrad": True}, None,
           lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True))
    yield ("adamw", {"_target_": "adamw", "lr": 0.01}, None, lambda p: O.AdamW(p, lr=0.01))
    yield ("adamw_all",
           {"_target_": "adamw", "lr": 0.02, "betas": [0.85, 0.95], "eps": 1e-7, "weight_decay": 0.1,
            "amsgrad": True}, None,
           lambda p: O.AdamW(p, lr=0.02, betas=(0.85, 0.95), eps=1e-7, weight_decay=0.1, amsgrad=True))
    yield ("adamw_scheduled", {"_target_": "adamw", "lr": 0.05}, decay, lambda p: O.AdamW(p, lr=0.05))
    # kiln's one-pass step (fused: true) against torch.optim's own.
    yield ("adamw_fused",
           {"_target_": "adamw", "lr": 0.02, "betas": [0.85, 0.95], "eps": 1e-7, "weight_decay": 0.1,
            "amsgrad": True, "fused": True}, decay,
           lambda p: O.AdamW(p, lr=0.02, betas=(0.85, 0.95), eps=1e-7, weight_decay=0.1, amsgrad=True))
    yield ("adam_fused",
           {"_target_": "adam", "lr": 0.02, "weight_decay": 0.1, "fused": True}, None,
           lambda p: O.Adam(p, lr=0.02, weight_decay=0.1))


def main():
    for name, t in INIT.items():
        emit("tensor", "init." + name, " ".join(str(d) for d in t.shape), numbers(t.reshape(-1).tolist()))
    for step in range(STEPS):
        for name in INIT:
            g = grad(step, name)
            emit("tensor", "grad.%d.%s" % (step, name), " ".join(str(d) for d in g.shape),
                 numbers(g.reshape(-1).tolist()))
    for name, config, base_lr, total, values in sched_cases():
        emit("sched", name, flow(config), repr(base_lr), total, numbers(values))
    for name, config, lrs, make in optim_cases():
        emit("optim", name, flow(config), "-" if lrs is None else numbers(lrs), numbers(torch_final(make, lrs)))


if __name__ == "__main__":
    main()
