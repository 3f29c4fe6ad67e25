#!/usr/bin/env python3
"""Plots Fréchet-distance curves (CSV files written by `transgan-eval`: checkpoint,step,frechet,real_vs_real)
into a PNG, e.g. docs/transgan-fashion-frechet.png. Needs matplotlib; not part of CI.

    python3 scripts/plot_frechet.py out.png run4.csv "run 4" run3.csv "run 3"
    python3 scripts/plot_frechet.py --minutes out.png run5.csv "run 5" ...   # x: a `minutes` column

With --minutes the x axis is wall-clock training time, read from a `minutes` column the caller adds (from the
`seconds` column of the run's losses.csv), so runs of different speed compare at equal time.
"""
import csv, sys
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
args = sys.argv[1:]
minutes = args[0] == '--minutes'
if minutes: args = args[1:]
runs = [(path, label) for path, label in zip(args[1::2], args[2::2])]
fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
for path, label in runs:
    rows = [r for r in csv.DictReader(open(path))]
    xs = [float(r['minutes']) for r in rows] if minutes else [int(r['step']) for r in rows]
    ax.plot(xs, [float(r['frechet']) for r in rows], marker='o', ms=3, label=label)
ax.axhline(0.1276, color='gray', ls='--', lw=1, label='real vs real (0.128)')
ax.set_yscale('log'); ax.set_xlabel('minutes of training (2 cores)' if minutes else 'step (D and G step each, batch 16)'); ax.set_ylabel('Fréchet distance (CNN features)')
ax.set_title('TransGAN tiny on Fashion-MNIST, EMA generator, 500 samples', fontsize=10)
ax.grid(True, which='both', alpha=0.3); ax.legend(fontsize=8)
fig.tight_layout(); fig.savefig(args[0])
