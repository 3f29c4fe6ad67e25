#!/usr/bin/env python3
"""Predicted data-parallel step times from a ring all-reduce model (docs/scaling.md explains the assumptions).

Usage: predict_scaling.py NAME:PARAMS_G:PARAMS_D:N_CRITIC:COMPUTE_SECONDS:BATCH ...
  PARAMS_D = 0 for a single network (Paint Transformer); COMPUTE_SECONDS is one node's measured step at the
  batch. Prints two markdown tables of predicted step time and speed-up for 4, 16 and 64 nodes on 10 and
  100 Gbit/s links: weak scaling (every node keeps the batch, the global batch grows N-fold) and strong scaling
  (the global batch stays, each node computes 1/N of it, assuming compute divides perfectly).
"""
import math
import sys

BUCKET_BYTES = 4 << 22          # GradientReducer.defaultBucketElements float32s per collective call
LINKS = {"10 Gbit/s": (10e9, 25e-6), "100 Gbit/s": (100e9, 10e-6)}   # line rate, per-message latency
EFFICIENCY = 0.8                # share of the line rate a TCP ring reaches
NODES = [4, 16, 64]


def exchange_seconds(nbytes, nodes, rate, latency):
    """Ring all-reduce: 2(N-1) steps, each sends S/N bytes per call; one call per 16 MiB bucket plus scalars."""
    calls = math.ceil(nbytes / BUCKET_BYTES) + 1
    steps = 2 * (nodes - 1)
    return steps * (calls * latency + nbytes / nodes / (EFFICIENCY * rate / 8))


def main(specs, strong):
    print("| model | gradient bytes per step | one node | " + " | ".join(
        f"{n} nodes, {link}" for link in LINKS for n in NODES) + " |")
    print("|---|---|---|" + "---|" * (len(LINKS) * len(NODES)))
    for spec in specs:
        name, pg, pd, ncritic, compute, batch = spec.split(":")
        pg, pd, ncritic, compute, batch = int(pg), int(pd), int(ncritic), float(compute), int(batch)
        # TransGAN: D's gradients every step, G's every n_critic steps; Paint Transformer: one network.
        exchanges = [(4 * pd, 1.0), (4 * pg, 1.0 / ncritic)] if pd else [(4 * pg, 1.0)]
        per_step = sum(b * f for b, f in exchanges)
        cells = []
        for rate, latency in LINKS.values():
            for n in NODES:
                if strong and n > batch:
                    cells.append("— (batch < nodes)")
                    continue
                comm = sum(f * exchange_seconds(b, n, rate, latency) for b, f in exchanges)
                step = (compute / n if strong else compute) + comm
                speedup = compute / step if strong else n * compute / step
                cells.append(f"{step:.2f} s ({speedup:.1f}×)")
        print(f"| {name} | {per_step / 1e6:.1f} MB | {compute:.2f} s | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("Weak scaling (per-node batch fixed):\n")
    main(sys.argv[1:], strong=False)
    print("\nStrong scaling (global batch fixed):\n")
    main(sys.argv[1:], strong=True)
