"""The table of bench/gpt2_gpu.sh from the impl=... lines on stdin.

usage: ... | python3 bench/gpt2_table.py CEILING_FLOPS
"""

import sys

PEAK = 989e12  # H100 SXM, bf16 dense


def main():
    ceiling = float(sys.argv[1])
    rows = [dict(field.split("=", 1) for field in line.split()) for line in sys.stdin if line.startswith("impl=")]
    print(f"matmul ceiling measured: {ceiling / 1e12:.0f} TFLOP/s (bf16, 8192^3)")
    print("| impl | tokens/s | ms/step | MFU (989 peak) | MFU (measured ceiling) | peak MB | loss | first step s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        flops = float(r["tokens_per_s"]) * float(r["flops_per_token"])
        print(f"| {r['impl']} | {float(r['tokens_per_s']):,.0f} | {float(r['ms_per_step']):.1f} "
              f"| {100 * flops / PEAK:.1f}% | {100 * flops / ceiling:.1f}% | {float(r['peak_mem_mb']):,.0f} "
              f"| {r['loss']} | {r['first_step_s']} |")
    speed = {r["impl"]: float(r["tokens_per_s"]) for r in rows}
    if "kiln" in speed and "torch" in speed:
        print(f"tokens/s ratio kiln/torch {speed['kiln'] / speed['torch']:.3f} (target >= 1.3)")
    if "kiln" in speed and "torch_compile" in speed:
        print(f"tokens/s ratio kiln/torch_compile {speed['kiln'] / speed['torch_compile']:.3f} (target >= 1.0)")


if __name__ == "__main__":
    main()
