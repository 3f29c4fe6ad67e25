#!/usr/bin/env python3
"""PyTorch counterpart of `swift run -c release bench-attention`: the same presets, timed with
torch.nn.functional.scaled_dot_product_attention ("fused") and the naive softmax(Q·Kᵀ·scale + bias)·V
("composite"), forward and forward+backward, float32 on the CPU. Each shape is validated against a
float64 evaluation first. Prints a table, or with --json one JSON array with the fields bench-attention uses.

    python3 Benchmarks/pytorch/bench_attention.py --threads 2 --json

Not run in CI.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


def presets(b):
    """(name, B, H, Tq, Tk, D, bias): as Benchmarks/bench-attention/Presets.swift."""
    return [
        ("transgan-gen-64x256", b, 4, 64, 64, 256, True),
        ("transgan-gen-256x64", b, 4, 256, 256, 64, True),
        ("transgan-gen-1024x16", b, 4, 1024, 1024, 16, True),
        ("transgan-disc-256x72", b, 4, 256, 256, 72, False),
        ("transgan-disc-64x96", b, 4, 64, 64, 96, False),
        ("transgan-disc-65x96", b, 4, 65, 65, 96, False),
        ("paint-encoder", b, 8, 64, 64, 32, False),
        ("paint-decoder-self", b, 8, 8, 8, 32, False),
        ("paint-decoder-cross", b, 8, 8, 64, 32, False),
        ("generic-8x8x1024x64", 8, 8, 1024, 1024, 64, False),
        ("generic-1x8x4096x64", 1, 8, 4096, 4096, 64, False),
    ]


def naive(q, k, v, bias, scale):
    s = q @ k.transpose(-1, -2) * scale
    if bias is not None:
        s = s + bias
    return torch.softmax(s, dim=-1) @ v


def fused(q, k, v, bias, scale):
    # SDPA takes an additive float mask; with one, PyTorch may pick a non-flash CPU kernel.
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)


def median_time(fn, reps):
    fn()  # warm-up
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def measure(p, threads, reps):
    name, b, h, tq, tk, d, has_bias = p
    g = torch.Generator().manual_seed(0)
    rnd = lambda *shape: torch.rand(*shape, generator=g) * 2 - 1
    q, k, v, dout = rnd(b, h, tq, d), rnd(b, h, tk, d), rnd(b, h, tk, d), rnd(b, h, tq, d)
    bias = rnd(h, tq, tk) if has_bias else None  # [H, Tq, Tk], broadcast over the batch
    scale = 1 / math.sqrt(d)

    def run(impl, x, backward):
        leaves = [t.detach().clone().requires_grad_(backward) for t in x[:3]]
        bb = None if x[3] is None else x[3].detach().clone().requires_grad_(backward)
        out = impl(*leaves, bb, scale)
        if not backward:
            return out.detach(), None
        out.backward(dout.to(out.dtype))
        grads = [t.grad for t in leaves] + ([bb.grad] if bb is not None else [])
        return out.detach(), grads

    # Validate against float64 (naive form) on the whole problem.
    x64 = [t.double() if t is not None else None for t in (q, k, v, bias)]
    ref_out, ref_grads = run(naive, x64, True)
    x32 = (q, k, v, bias)
    errs = {}
    for label, impl in (("fused", fused), ("composite", naive)):
        out, grads = run(impl, x32, True)
        errs[label] = (
            (out.double() - ref_out).abs().max().item(),
            max((gr.double() - rg).abs().max().item() for gr, rg in zip(grads, ref_grads)),
        )

    def timed(impl, backward):
        def body():
            if backward:
                run(impl, x32, True)
            else:
                with torch.no_grad():
                    impl(q, k, v, bias, scale)
        return median_time(body, reps)

    ff, ffb = timed(fused, False), timed(fused, True)
    cf, cfb = timed(naive, False), timed(naive, True)
    flops = 4.0 * b * h * tq * tk * d
    return {
        "name": name, "B": b, "H": h, "Tq": tq, "Tk": tk, "D": d, "bias": has_bias, "threads": threads,
        "torch_version": torch.__version__,
        "fused_fwd_ms": ff * 1e3, "fused_fwdbwd_ms": ffb * 1e3,
        "composite_fwd_ms": cf * 1e3, "composite_fwdbwd_ms": cfb * 1e3,
        "fused_fwd_gflops": flops / ff / 1e9, "fused_fwdbwd_gflops": 2.5 * flops / ffb / 1e9,
        "composite_fwd_gflops": flops / cf / 1e9, "composite_fwdbwd_gflops": 2.5 * flops / cfb / 1e9,
        "max_abs_err_fwd": errs["fused"][0], "max_abs_err_bwd": errs["fused"][1],
        "composite_max_abs_err_fwd": errs["composite"][0], "composite_max_abs_err_bwd": errs["composite"][1],
        # Not measured here (PyTorch's allocator decides); the composite keeps P [B, H, Tq, Tk] for backward.
        "fused_extra_bytes": None,
        "composite_extra_bytes": 2 * 4 * b * h * tq * tk,  # P and dP, as bench-attention counts them
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--preset", action="append", default=[], help="name (repeatable or comma list; default all)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    allp = presets(a.batch)
    wanted = [n for s in a.preset for n in s.split(",") if n]
    unknown = [n for n in wanted if n not in {p[0] for p in allp}]
    if unknown:
        ap.error(f"unknown preset {', '.join(unknown)}")
    chosen = [p for p in allp if not wanted or p[0] in wanted]
    if not a.json:
        print(f"torch {torch.__version__} · threads {torch.get_num_threads()} · reps {a.reps} (median)")
    rows = []
    for p in chosen:
        r = measure(p, a.threads, a.reps)
        rows.append(r)
        if not a.json:
            print(f"{r['name']} B{r['B']} H{r['H']} Tq{r['Tq']} Tk{r['Tk']} D{r['D']}{' +bias' if r['bias'] else ''}\n"
                  f"  fwd     sdpa {r['fused_fwd_ms']:.3f} ms {r['fused_fwd_gflops']:.1f} GF · naive "
                  f"{r['composite_fwd_ms']:.3f} ms {r['composite_fwd_gflops']:.1f} GF\n"
                  f"  fwd+bwd sdpa {r['fused_fwdbwd_ms']:.3f} ms {r['fused_fwdbwd_gflops']:.1f} GF · naive "
                  f"{r['composite_fwdbwd_ms']:.3f} ms {r['composite_fwdbwd_gflops']:.1f} GF\n"
                  f"  max |err| vs f64: sdpa fwd {r['max_abs_err_fwd']:.1e} bwd {r['max_abs_err_bwd']:.1e}")
    if a.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
