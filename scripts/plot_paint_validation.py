#!/usr/bin/env python3
"""Plots Paint Transformer validation curves (validation.csv files written by `train-paint-transformer
--validate-every N`) into one PNG: per metric, each run's model (solid) and its mean-prediction baseline (dotted).
Needs matplotlib; not part of CI.

    python3 scripts/plot_paint_validation.py [--metrics wasserstein,detection_f1,pixel_l1] docs/paint-validation.png \
        runs/a/validation.csv "proposals" runs/b/validation.csv "reference design"
"""
import csv, sys
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

args = sys.argv[1:]
only = None
if args[0] == '--metrics':  # e.g. --metrics wasserstein,detection_f1,pixel_l1
    only, args = args[1].split(','), args[2:]
out, args = args[0], args[1:]
runs = list(zip(args[0::2], args[1::2]))
metrics = [('wasserstein', 'matched Wasserstein (log)', True), ('parameter_l1', 'matched parameter L1 (log)', True),
           ('detection_f1', 'detection F1 (W < 0.01)', False), ('pixel_l1', 'reconstruction pixel L1', False)]
if only: metrics = [m for m in metrics if m[0] in only]
fig, axes = plt.subplots(1, len(metrics), figsize=(4.0 * len(metrics), 3.2), dpi=100)
for ax, (key, title, log) in zip(axes, metrics):
    for i, (path, label) in enumerate(runs):
        rows = list(csv.DictReader(open(path)))
        steps = [int(r['step']) for r in rows]
        colour = f'C{i}'
        ax.plot(steps, [float(r[key]) for r in rows], color=colour, marker='o', ms=3, label=label)
        ax.plot(steps, [float(r['baseline_' + key]) for r in rows], color=colour, ls=':', lw=1,
                label=f'{label}: baseline')
    if log: ax.set_yscale('log')
    ax.set_title(title, fontsize=9); ax.set_xlabel('step (batch 32)'); ax.grid(True, which='both', alpha=0.3)
axes[0].legend(fontsize=7)
fig.suptitle('Paint Transformer, fixed synthetic validation set (512 patches); dotted: the same model\'s '
             'content-independent mean prediction', fontsize=9)
fig.tight_layout(); fig.savefig(out)
