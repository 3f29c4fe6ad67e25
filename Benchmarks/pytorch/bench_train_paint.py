#!/usr/bin/env python3
"""PyTorch CPU eager counterpart of `bench-train --model paint-transformer`: one
Paint Transformer training iteration — synthetic batch (reference `set_input`), forward, differentiable renderer,
Hungarian-matched losses, backward, Adam — timed as the median of several, at a fixed thread count.

Follows Huage001/PaintTransformer train/models (painter_model.py, networks.py) in structure and cost, with the
renderer improvement Atelier also makes (warp the 1-channel brush, colour afterwards). Brushes are a procedural
256×256 dab like Atelier's (no files needed). Not run in CI.

`--precision bf16` runs the network's forward under torch.autocast("cpu", dtype=torch.bfloat16) (linear, conv
and matmul in bf16, fp32 weights and Adam); renderer, matching and losses stay fp32, as in `bench-train --precision bf16`.

Usage: python3 Benchmarks/pytorch/bench_train_paint.py --config paper|small --batch 64 --threads 2 [--precision bf16] [--json]
Needs: torch, scipy, numpy.
"""
import argparse
import contextlib
import json
import math
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

CONFIGS = {
    "paper": dict(channels=(32, 64, 128), d=256, heads=8, enc=3, dec=3, ffn=2048, dropout=0.1),
    "small": dict(channels=(16, 32, 64), d=128, heads=4, enc=2, dec=2, ffn=512, dropout=0.0),
}


class Painter(nn.Module):
    def __init__(self, channels, d, heads, enc, dec, ffn, dropout, strokes=8):
        super().__init__()

        def encoder():
            layers, cin = [], 3
            for i, c in enumerate(channels):
                layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, c, 3, 1 if i == 0 else 2), nn.BatchNorm2d(c), nn.ReLU(True)]
                cin = c
            return nn.Sequential(*layers)

        self.enc_img, self.enc_canvas = encoder(), encoder()
        self.conv = nn.Conv2d(2 * channels[-1], d, 1)
        self.transformer = nn.Transformer(d, heads, enc, dec, dim_feedforward=ffn, dropout=dropout)
        self.linear_param = nn.Sequential(nn.Linear(d, d), nn.ReLU(True), nn.Linear(d, d), nn.ReLU(True), nn.Linear(d, 5))
        self.linear_decider = nn.Linear(d, 1)
        self.query_pos = nn.Parameter(torch.rand(strokes, d))
        self.row_embed = nn.Parameter(torch.rand(8, d // 2))
        self.col_embed = nn.Parameter(torch.rand(8, d // 2))

    def forward(self, img, canvas):
        b = img.shape[0]
        feat = self.conv(torch.cat([self.enc_img(img), self.enc_canvas(canvas)], dim=1))
        h, w = feat.shape[-2:]
        pos = torch.cat([self.col_embed[:w].unsqueeze(0).repeat(h, 1, 1),
                         self.row_embed[:h].unsqueeze(1).repeat(1, w, 1)], dim=-1).flatten(0, 1).unsqueeze(1)
        hidden = self.transformer(pos + feat.flatten(2).permute(2, 0, 1), self.query_pos.unsqueeze(1).repeat(1, b, 1))
        hidden = hidden.permute(1, 0, 2)
        return self.linear_param(hidden), self.linear_decider(hidden).squeeze(-1)


class SignWithSigmoidGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(s)
        return (x > 0).float()

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s * (1 - s)


def procedural_brushes(size=256):
    yy, xx = np.mgrid[0:size, 0:size]
    dx, dy = (xx + 0.5) / size - 0.5, (yy + 0.5) / size - 0.5
    inside = (np.abs(dx / 0.3825) ** 2.5 + np.abs(dy / 0.4545) ** 2.5) < 1
    rng = np.random.default_rng(0)
    brushes = []
    for axis in (1, 0):  # vertical grain (streaks vary across x), horizontal grain
        streak = rng.random(size)[None, :] if axis == 1 else rng.random(size)[:, None]
        brushes.append(np.where(inside, 0.85 + 0.1 * streak, 0).astype(np.float32))
    return torch.from_numpy(np.stack(brushes)[:, None])  # [2, 1, S, S]: 0 vertical, 1 horizontal


def render(param, colour, brushes, size):
    """param [n, 5], colour [n, 3] -> foreground [n, 3, size, size], alpha [n, 1, size, size]."""
    x0, y0, w, h, theta = param.unbind(-1)
    s, c = torch.sin(math.pi * theta), torch.cos(math.pi * theta)
    index = (h <= w).long()  # 0 vertical if h > w
    brush = brushes[index]
    alpha = (brush > 0).float()
    warp = torch.stack([torch.stack([c / w, s / w, (1 - 2 * x0) * c / w + (1 - 2 * y0) * s / w], 1),
                        torch.stack([-s / h, c / h, (1 - 2 * y0) * c / h - (1 - 2 * x0) * s / h], 1)], 1)
    grid = F.affine_grid(warp, (param.shape[0], 1, size, size), align_corners=False)
    both = F.grid_sample(torch.cat([brush, alpha], 1), grid, align_corners=False)
    fg = both[:, :1] * colour[:, :, None, None]
    fg = F.max_pool2d(fg, 3, 1, 1)                    # dilation (-inf padding)
    alpha = -F.max_pool2d(-both[:, 1:], 3, 1, 1)      # erosion (+inf padding)
    return fg, alpha


def random_param(n):
    p = torch.rand(n, 8)
    p[:, :4] = p[:, :4] * 0.5 + 0.2
    return p[:, :5], p[:, 5:]


@torch.no_grad()
def make_batch(b, brushes, n=8, p=32):
    shape, colour = random_param(b // 4 * n)
    fg, al = render(shape, colour, brushes, 2 * p)
    fg, al = fg.view(b // 4, n, 3, 2 * p, 2 * p), al.view(b // 4, n, 1, 2 * p, 2 * p)
    old = torch.zeros(b // 4, 3, 2 * p, 2 * p)
    for i in range(n):
        old = fg[:, i] * al[:, i] + old * (1 - al[:, i])
    old = old.view(b // 4, 3, 2, p, 2, p).permute(0, 2, 4, 1, 3, 5).reshape(b, 3, p, p)
    shape, colour = random_param(b * n)
    fg, al = render(shape, colour, brushes, p)
    fg, al = fg.view(b, n, 3, p, p), al.view(b, n, 1, p, p)
    target, valid = old.clone(), torch.ones(b, n)
    for i in range(n):
        for j in range(i):
            iou = ((al[:, i] * al[:, j]).sum((1, 2, 3)) + 1e-5) / (al[:, j].sum((1, 2, 3)) + 1e-5)
            valid[:, i] *= ((iou < 0.75) | (valid[:, j] == 0)).float()
        d = valid[:, i].view(b, 1, 1, 1)
        target = fg[:, i] * al[:, i] * d + target * (1 - al[:, i] * d)
    return old, target, shape.view(b, n, 5), valid


def wasserstein(p1, p2):
    def parts(p):
        x, y, w, h, t = p.unbind(-1)
        t = math.pi * t
        c, s = torch.cos(t), torch.sin(t)
        w2, h2 = w * w / 4, h * h / 4
        return x, y, c * c * w2 + s * s * h2, c * s * (w2 - h2), s * s * w2 + c * c * h2, w2 + h2, w * h
    a, b = parts(p1), parts(p2)
    tr = a[2] * b[2] + 2 * a[3] * b[3] + a[4] * b[4]
    root = torch.sqrt(torch.clamp(tr + 2 * (a[6] * b[6]).abs() / 16, min=1e-12))
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + a[5] + b[5] - 2 * root


def train_step(net, opt, brushes, batch, n=8, p=32, amp=contextlib.nullcontext):
    old, target, gt, valid = make_batch(batch, brushes)
    with amp():
        shape, logit = net(target, old)
    shape, logit = shape.float(), logit.float()
    grid = (2 * shape[:, :, :2] - 1).view(batch, n, 1, 2)
    colour = F.grid_sample(target, grid, align_corners=False).view(batch, 3, n).permute(0, 2, 1)
    fg, al = render(shape.reshape(-1, 5), colour.reshape(-1, 3), brushes, p)
    fg, al = fg.view(batch, n, 3, p, p), al.view(batch, n, 1, p, p)
    d = SignWithSigmoidGrad.apply(logit).view(batch, n, 1, 1, 1)
    rec = old
    for i in range(n):
        rec = fg[:, i] * al[:, i] * d[:, i] + rec * (1 - al[:, i] * d[:, i])
    pixel = 10 * F.l1_loss(rec, target)
    with torch.no_grad():
        cost = (torch.cdist(shape, gt, p=1) + wasserstein(shape.unsqueeze(2), gt.unsqueeze(1)) + (1 - logit).unsqueeze(2)).numpy()
        rows, cols, matched = [], [], torch.zeros(batch, n)
        for b in range(batch):
            columns = np.flatnonzero(valid[b].numpy() > 0)
            r, c = linear_sum_assignment(cost[b][:, columns])
            rows += [b * n + i for i in r]
            cols += [b * n + columns[j] for j in c]
            matched[b, r] = 1
    pred, paired = shape.reshape(-1, 5)[rows], gt.reshape(-1, 5)[cols]
    loss = pixel + F.l1_loss(pred, paired) + 10 * wasserstein(pred, paired).mean() + \
        10 * F.binary_cross_entropy_with_logits(logit, matched, pos_weight=torch.tensor(10.0))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def main():
    parser = argparse.ArgumentParser(description="PyTorch Paint Transformer training-iteration benchmark")
    parser.add_argument("--config", default="paper", choices=CONFIGS)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.precision == "bf16" else contextlib.nullcontext
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = Painter(**CONFIGS[args.config]).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.5, 0.999))
    brushes = procedural_brushes()
    for _ in range(args.warmup):
        train_step(net, opt, brushes, args.batch, amp=amp)
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        loss = train_step(net, opt, brushes, args.batch, amp=amp)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    params = sum(p.numel() for p in net.parameters())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    result = dict(model="paint-transformer", config=args.config, batch=args.batch, threads=args.threads, precision=args.precision,
                  framework=f"torch {torch.__version__}", parameters=params, median_step_seconds=median, times=times, loss=loss,
                  peak_rss_mb=round(rss, 1))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"paint-transformer {args.config} batch {args.batch}, {params:,} parameters, torch {torch.__version__}, "
              f"{args.threads} threads, {args.precision}: iteration median {median:.3f} s")


if __name__ == "__main__":
    main()
