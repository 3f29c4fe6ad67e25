#!/usr/bin/env python3
"""Atelier against PyTorch eager on this machine: runs our benchmarks and their PyTorch counterparts in the same
sitting, alternating them round by round (machines are shared and noisy, so only ratios measured side by side
mean anything), and prints the ratio table (PyTorch time ÷ ours: above 1 means Atelier is faster).

    swift build -c release
    python3 Benchmarks/compare_pytorch.py --python VENV/bin/python3 [--threads 2] [--rounds 2] [--json]
    python3 Benchmarks/compare_pytorch.py --python VENV/bin/python3 --only attention --preset paint-encoder
    python3 Benchmarks/compare_pytorch.py --python VENV/bin/python3 --only training --precision fp32 --precision bf16

--python names an interpreter that has torch, numpy and scipy (the Paint Transformer script's matching), in a
venv outside the repository; never in CI. Ours come from
.build/release (--bin to change). Each table row gives both medians over the rounds and the range of the
per-round ratios. `--precision bf16` times the training rows in mixed precision on both sides (ours
`--precision bf16`, PyTorch's under bf16 autocast). Not run in CI.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (label, bench-train arguments, PyTorch script, its arguments); the same model, batch and loss on both sides.
TRAINING = [
    ("transgan tiny b32", ["--model", "transgan", "--config", "tiny", "--batch", "32"],
     "bench_train_transgan.py", ["--config", "tiny", "--batch", "32"]),
    ("transgan s b16", ["--model", "transgan", "--config", "s", "--batch", "16"],
     "bench_train_transgan.py", ["--config", "s", "--batch", "16"]),
    ("paint-transformer paper b64", ["--model", "paint-transformer", "--config", "paper", "--batch", "64"],
     "bench_train_paint.py", ["--config", "paper", "--batch", "64"]),
]


def run_json(command):
    """Runs a benchmark and returns its JSON output (the last line that parses)."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(command)} exited {done.returncode}:\n{done.stderr.strip()[-2000:]}")
    for line in reversed(done.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    sys.exit(f"error: {' '.join(command)} printed no JSON")


def best(row, kind):
    """The faster of the fused and composite paths, in ms (each side may pick either)."""
    return min(row[f"fused_{kind}_ms"], row[f"composite_{kind}_ms"])


def summary(ratios):
    return f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"


def compare_attention(args, out):
    common = ["--threads", str(args.threads), "--reps", str(args.reps), "--json"]
    ours_cmd = [os.path.join(args.bin, "bench-attention"), *common]
    theirs_cmd = [args.python, os.path.join(HERE, "pytorch", "bench_attention.py"), *common]
    for p in args.preset:
        ours_cmd += ["--preset", p]
        theirs_cmd += ["--preset", p]
    rounds = []
    for r in range(args.rounds):
        print(f"attention, round {r + 1}/{args.rounds} …", file=sys.stderr)
        ours = {row["name"]: row for row in run_json(ours_cmd)}
        theirs = {row["name"]: row for row in run_json(theirs_cmd)}
        rounds.append((ours, theirs))
    names = [n for n in rounds[0][0] if n in rounds[0][1]]
    print("\n| attention preset | ours fwd ms | PyTorch fwd ms | fwd ratio | ours fwd+bwd ms | PyTorch fwd+bwd ms | fwd+bwd ratio |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        fields = {}
        for kind in ("fwd", "fwdbwd"):
            ours = [best(o[name], kind) for o, _ in rounds]
            theirs = [best(t[name], kind) for _, t in rounds]
            fields[kind] = (statistics.median(ours), statistics.median(theirs), [b / a for a, b in zip(ours, theirs)])
        print(f"| {name} | {fields['fwd'][0]:.2f} | {fields['fwd'][1]:.2f} | {summary(fields['fwd'][2])} | "
              f"{fields['fwdbwd'][0]:.2f} | {fields['fwdbwd'][1]:.2f} | {summary(fields['fwdbwd'][2])} |")
        out.append({"kind": "attention", "name": name, "ours_fwd_ms": fields["fwd"][0], "pytorch_fwd_ms": fields["fwd"][1],
                    "fwd_ratios": fields["fwd"][2], "ours_fwdbwd_ms": fields["fwdbwd"][0],
                    "pytorch_fwdbwd_ms": fields["fwdbwd"][1], "fwdbwd_ratios": fields["fwdbwd"][2]})


def compare_training(args, out):
    print("\n| training iteration | ours ms | PyTorch ms | speed ratio | ours peak RSS MB | PyTorch peak RSS MB |")
    print("|---|---|---|---|---|---|")
    rows = [(f"{label} {precision}", ours_args, script, theirs_args, precision)
            for label, ours_args, script, theirs_args in TRAINING for precision in args.precision]
    for label, ours_args, script, theirs_args, precision in rows:
        if args.training and not any(label.startswith(prefix) for prefix in args.training):
            continue
        ours_ms, theirs_ms, ours_rss, theirs_rss = [], [], [], []
        common = ["--threads", str(args.threads), "--precision", precision, "--json"]
        for r in range(args.rounds):
            print(f"{label}, round {r + 1}/{args.rounds} …", file=sys.stderr)
            o = run_json([os.path.join(args.bin, "bench-train"), *ours_args, *common])
            t = run_json([args.python, os.path.join(HERE, "pytorch", script), *theirs_args, *common])
            ours_ms.append(float(o["median_ms"]))
            theirs_ms.append(float(t["median_ms"]) if "median_ms" in t else 1e3 * float(t["median_step_seconds"]))
            ours_rss.append(float(o.get("peak_rss_mb", "nan")))
            theirs_rss.append(float(t.get("peak_rss_mb", "nan")))
        ratios = [b / a for a, b in zip(ours_ms, theirs_ms)]
        print(f"| {label} | {statistics.median(ours_ms):.0f} | {statistics.median(theirs_ms):.0f} | {summary(ratios)} | "
              f"{max(ours_rss):.0f} | {max(theirs_rss):.0f} |")
        out.append({"kind": "training", "name": label, "precision": precision, "ours_ms": ours_ms, "pytorch_ms": theirs_ms, "ratios": ratios,
                    "ours_peak_rss_mb": max(ours_rss), "pytorch_peak_rss_mb": max(theirs_rss)})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", required=True, help="an interpreter with torch, numpy and scipy (e.g. a venv's bin/python3)")
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(HERE), ".build", "release"),
                    help="folder of our release executables (default: .build/release)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of ours and PyTorch's (default 2)")
    ap.add_argument("--only", choices=["attention", "training"], help="one of the two tables")
    ap.add_argument("--preset", action="append", default=[], help="attention presets (default: all)")
    ap.add_argument("--training", action="append", default=[],
                    help="training rows whose label starts with this, e.g. 'paint' or 'transgan s' (default: all)")
    ap.add_argument("--precision", action="append", choices=["fp32", "bf16"],
                    help="training rows in this precision, repeatable (default: fp32)")
    ap.add_argument("--reps", type=int, default=7, help="timed repetitions per attention measurement (default 7)")
    ap.add_argument("--json", help="also write every measurement to this JSON file")
    args = ap.parse_args()
    args.precision = list(dict.fromkeys(args.precision or ["fp32"]))
    if args.rounds < 1 or args.threads < 1 or args.reps < 1:
        ap.error("--rounds, --threads and --reps must be at least 1")
    for tool in ("bench-attention", "bench-train"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            ap.error(f"--bin {args.bin} has no {tool}; run `swift build -c release` first")
    if subprocess.run([args.python, "-c", "import torch, numpy, scipy"], capture_output=True).returncode != 0:
        ap.error(f"--python {args.python} cannot import torch, numpy and scipy")
    print(f"threads {args.threads}, {args.rounds} rounds; ratio = PyTorch time ÷ ours (median, range over rounds)")
    out = []
    if args.only in (None, "attention"):
        compare_attention(args, out)
    if args.only in (None, "training"):
        compare_training(args, out)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
