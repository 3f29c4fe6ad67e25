#!/usr/bin/env python3
"""Plots a TransGAN run's scores (frechet.csv written by `train-transgan --eval-every N`) against training minutes,
with the calibration ladder (calibration.json beside it, same classifier and sample count) as horizontal lines:
Fréchet distance and KID, log scale. Needs matplotlib; not part of CI.

    python3 scripts/plot_transgan_eval.py docs/transgan-eval.png runs/transgan/frechet.csv [runs/other/frechet.csv …]

A path written PATH@S plots minutes as step × S seconds instead of the run's own training seconds: for runs
trained on one thread or on a shared machine, S is the step's time measured quietly (`bench-train`) at the
thread count the minutes should mean.
"""
import csv, json, os, sys
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

out, paths = sys.argv[1], sys.argv[2:]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100)
ladder = None
for i, arg in enumerate(paths):
    path, _, step_seconds = arg.partition('@')
    rows = list(csv.DictReader(open(path)))
    if step_seconds:
        minutes = [int(r['step']) * float(step_seconds) / 60 for r in rows]
    else:
        minutes = [float(r['training_seconds']) / 60 for r in rows]
    for ax, key, scale in ((axes[0], 'frechet', 1), (axes[1], 'kid', 1000)):
        ax.plot(minutes, [max(float(r[key]) * scale, 1e-3) for r in rows], marker='o', ms=3, color=f'C{i}',
                label=os.path.basename(os.path.dirname(path)) or path)
    calibration = os.path.join(os.path.dirname(path), 'calibration.json')
    if ladder is None and os.path.exists(calibration):
        ladder = json.load(open(calibration))
for ax, key, scale, title in ((axes[0], 'frechet', 1, 'Fréchet distance vs test split'),
                              (axes[1], 'kid', 1000, 'KID × 10³ vs test split')):
    for j, rung in enumerate(ladder or []):
        value = max(rung[key] * scale, 1e-3)
        ax.axhline(value, color='grey', ls=':', lw=1)
        ax.annotate(rung['name'], (0, value), fontsize=7, color='dimgrey', va='bottom')
    ax.set_yscale('log')
    ax.set_xlabel('training minutes (evaluations excluded)' + (', from steps × s/step' if any('@' in a for a in paths) else ''))
    ax.set_title(title)
axes[0].legend(fontsize=8)
fig.tight_layout()
fig.savefig(out)
print('wrote', out)
