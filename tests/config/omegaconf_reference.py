#!/usr/bin/python3
"""OmegaConf's answer for every case of the differential test corpus.

Usage: omegaconf_reference.py CORPUS_DIR [CASE ...]

For each case directory (all of CORPUS_DIR's subdirectories in name order,
or the named ones) computes

    OmegaConf.to_container(
        OmegaConf.merge(*[OmegaConf.load(f) for f in yaml_files],
                        OmegaConf.from_dotlist(overrides)),
        resolve=True)

where yaml_files are base.yaml then the case's other *.yaml files in name
order, and overrides are the lines of overrides.txt (blank lines and lines
starting with '#' skipped). Prints "== <case>" and then the result in the
canonical form that tests/config/omegaconf_diff_test.cpp also prints, or
"!error <ExceptionType>" when OmegaConf raises. One process handles all cases
because Python and OmegaConf take ~0.3 s to start.

Canonical form: maps as {...} and lists as [...], one entry per line indented
by two spaces per level, map keys as JSON strings, entries separated by ",";
scalars typed: i:123, f:<'%.17g'> (inf, -inf, nan), s:<JSON string>, b:true,
b:false, null, and ??? for a missing value. Empty containers are {} and [].
"""
import json
import math
import os
import sys

from omegaconf import OmegaConf


def scalar(value):
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "b:true" if value else "b:false"
    if isinstance(value, int):
        return "i:%d" % value
    if isinstance(value, float):
        if math.isnan(value):
            return "f:nan"
        return "f:" + ("%.17g" % value)
    if isinstance(value, str):
        if value == "???":
            return "???"
        return "s:" + json.dumps(value, ensure_ascii=False)
    return "?unexpected %s" % type(value).__name__


def canonical(value, indent=0):
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        entries = [pad + json.dumps(str(k), ensure_ascii=False) + ": " + canonical(v, indent + 1)
                   for k, v in value.items()]
        return "{\n" + ",\n".join(entries) + "\n" + "  " * indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        entries = [pad + canonical(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(entries) + "\n" + "  " * indent + "]"
    return scalar(value)


def yaml_files(case_dir):
    names = sorted(n for n in os.listdir(case_dir) if n.endswith(".yaml") and n != "base.yaml")
    return [os.path.join(case_dir, "base.yaml")] + [os.path.join(case_dir, n) for n in names]


def overrides(case_dir):
    path = os.path.join(case_dir, "overrides.txt")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    return [line for line in lines if line.strip() and not line.startswith("#")]


def run_case(case_dir):
    try:
        configs = [OmegaConf.load(f) for f in yaml_files(case_dir)]
        configs.append(OmegaConf.from_dotlist(overrides(case_dir)))
        merged = OmegaConf.merge(*configs)
        return canonical(OmegaConf.to_container(merged, resolve=True))
    except Exception as e:  # every OmegaConf error is an agreed "error" outcome
        return "!error " + type(e).__name__


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    corpus = argv[1]
    cases = argv[2:] or sorted(n for n in os.listdir(corpus) if os.path.isdir(os.path.join(corpus, n)))
    out = []
    for case in cases:
        out.append("== " + case)
        out.append(run_case(os.path.join(corpus, case)))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
