#!/usr/bin/env python3
"""PyTorch CPU eager reference for `bench-train --model transgan`: one full TransGAN training iteration
(D step with the WGAN-GP-eps gradient penalty through D and its DiffAugment via create_graph=True, then a
G step), median wall time and peak RSS. Written from reference/transgan.md (not from the official code);
same configurations, initial shapes and loss as Sources/TransGAN. Not run in CI.
`--precision bf16` runs the forward passes under torch.autocast("cpu", dtype=torch.bfloat16) (linear, conv and
matmul in bf16, fp32 weights and Adam) with the scores, losses and the penalty's gradient in fp32, the counterpart
of `bench-train --precision bf16`.

    python3 Benchmarks/pytorch/bench_train_transgan.py --config tiny --batch 32 --threads 2 --json
"""
import argparse, contextlib, json, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {  # name: latent, gf, g_depths, df, patch, d_depth, bottom
    "xl": (256, 1024, [5, 4, 2], 384, 2, 3, 8), "s": (256, 384, [5, 2, 2], 384, 2, 3, 8),
    "m": (256, 512, [5, 2, 2], 384, 2, 3, 8), "l": (256, 768, [5, 2, 2], 384, 2, 3, 8),
    "s-lite": (128, 384, [3, 2, 2], 192, 2, 2, 8), "tiny": (128, 256, [2, 2, 1], 128, 2, 2, 8),
    "micro": (64, 128, [1, 1, 1], 64, 2, 1, 8),
}

def rel_index(w):
    coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (w - 1)
    return rel[..., 0] * (2 * w - 1) + rel[..., 1]

class Attention(nn.Module):
    def __init__(self, dim, heads, window, noise):
        super().__init__()
        self.heads, self.window = heads, window
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.noise_strength_1 = nn.Parameter(torch.zeros([])) if noise else None
        if window:
            self.relative_position_bias_table = nn.Parameter(torch.randn((2 * window - 1) ** 2, heads) * 0.02)
            self.register_buffer("relative_position_index", rel_index(window).reshape(-1), persistent=False)
    def forward(self, x):
        B, N, C = x.shape
        if self.noise_strength_1 is not None:
            x = x + torch.randn(B, N, 1) * self.noise_strength_1
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)) * (C // self.heads) ** -0.5
        if self.window:
            w2 = self.window ** 2
            attn = attn + self.relative_position_bias_table[self.relative_position_index].reshape(w2, w2, -1).permute(2, 0, 1)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(B, N, C))

class Block(nn.Module):
    def __init__(self, dim, heads, window, noise):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads, window, noise)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))

class Generator(nn.Module):
    def __init__(self, latent, gf, depths, bottom, ch):
        super().__init__()
        self.bottom, self.gf = bottom, gf
        self.l1 = nn.Linear(latent, bottom * bottom * gf)
        dims, sides = [gf, gf // 4, gf // 16], [bottom, 2 * bottom, 4 * bottom]
        self.pos = nn.ParameterList([nn.Parameter(torch.randn(1, s * s, d) * 0.02) for s, d in zip(sides, dims)])
        self.stages = nn.ModuleList([nn.Sequential(*[Block(d, 4, s, False) for _ in range(n)]) for d, s, n in zip(dims, sides, depths)])
        self.deconv = nn.Conv2d(dims[2], ch, 1)
        self.sides, self.dims = sides, dims
    def forward(self, z):
        x = self.l1(z).view(z.shape[0], -1, self.gf) + self.pos[0]
        x = self.stages[0](x)
        for s in (1, 2):
            B, N, C = x.shape
            H = self.sides[s - 1]
            x = F.pixel_shuffle(x.transpose(1, 2).reshape(B, C, H, H), 2).reshape(B, C // 4, -1).transpose(1, 2) + self.pos[s]
            x = self.stages[s](x)
        B, N, C = x.shape
        return self.deconv(x.transpose(1, 2).reshape(B, C, self.sides[2], self.sides[2]))

def diff_augment(x):
    B, C, H, W = x.shape
    s = int(H * 0.2 + 0.5)
    tx, ty = torch.randint(-s, s + 1, (B, 1, 1)), torch.randint(-s, s + 1, (B, 1, 1))
    gb, gx, gy = torch.meshgrid(torch.arange(B), torch.arange(H), torch.arange(W), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, H + 1); gy = torch.clamp(gy + ty + 1, 0, W + 1)
    x = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)[gb, gx, gy].permute(0, 3, 1, 2)
    if torch.rand(()) < 0.3:
        cs = int(H * 0.5 + 0.5)
        ox, oy = torch.randint(0, H + (1 - cs % 2), (B, 1, 1)), torch.randint(0, W + (1 - cs % 2), (B, 1, 1))
        gb, gx, gy = torch.meshgrid(torch.arange(B), torch.arange(cs), torch.arange(cs), indexing="ij")
        gx = torch.clamp(gx + ox - cs // 2, 0, H - 1); gy = torch.clamp(gy + oy - cs // 2, 0, W - 1)
        mask = torch.ones(B, H, W); mask[gb, gx, gy] = 0
        x = x * mask.unsqueeze(1)
    x = x + (torch.rand(B, 1, 1, 1) - 0.5)
    m = x.mean(1, keepdim=True); x = (x - m) * (torch.rand(B, 1, 1, 1) * 2) + m
    m = x.mean([1, 2, 3], keepdim=True); x = (x - m) * (torch.rand(B, 1, 1, 1) + 0.5) + m
    return x

class Discriminator(nn.Module):
    def __init__(self, df, patch, depth, img, ch):
        super().__init__()
        d1, d2 = df // 4 * 3, df // 4
        self.s1, self.s2, self.d1 = img // patch, img // (2 * patch), d1
        self.fRGB_1 = nn.Conv2d(ch, d1, patch, patch); self.fRGB_2 = nn.Conv2d(ch, d2, 2 * patch, 2 * patch)
        self.pos_embed_1 = nn.Parameter(torch.randn(1, self.s1 ** 2, d1) * 0.02)
        self.pos_embed_2 = nn.Parameter(torch.randn(1, self.s2 ** 2, df) * 0.02)
        self.cls_token = nn.Parameter(torch.randn(1, 1, df) * 0.02)
        self.blocks_1 = nn.Sequential(*[Block(d1, 4, self.s1, True) for _ in range(depth)])
        self.blocks_2 = nn.Sequential(*[Block(df, 4, self.s2, True) for _ in range(depth)])
        self.last_block = Block(df, 4, 0, True)
        self.norm, self.head = nn.LayerNorm(df), nn.Linear(df, 1)
    def forward(self, x):
        x = diff_augment(x)
        B = x.shape[0]
        h = self.fRGB_1(x).flatten(2).transpose(1, 2) + self.pos_embed_1
        h2 = self.fRGB_2(x).flatten(2).transpose(1, 2)
        h = self.blocks_1(h)
        h = F.avg_pool2d(h.transpose(1, 2).reshape(B, self.d1, self.s1, self.s1), 2).flatten(2).transpose(1, 2)
        h = self.blocks_2(torch.cat([h, h2], 2) + self.pos_embed_2)
        h = self.last_block(torch.cat([self.cls_token.expand(B, -1, -1), h], 1))
        return self.head(self.norm(h)[:, 0])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="tiny"); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--channels", type=int, default=3); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5); ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    # Autocast covers the forwards; the backward follows the recorded dtypes (called outside, as PyTorch advises).
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.precision == "bf16" else contextlib.nullcontext
    torch.set_num_threads(a.threads); torch.manual_seed(1)
    latent, gf, depths, df, patch, dd, bottom = CONFIGS[a.config]
    img = 4 * bottom
    G, D = Generator(latent, gf, depths, bottom, a.channels), Discriminator(df, patch, dd, img, a.channels)
    oG = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.0, 0.99)); oD = torch.optim.Adam(D.parameters(), 1e-4, betas=(0.0, 0.99))
    real = torch.rand(a.batch, a.channels, img, img) * 2 - 1
    def iteration():
        # D step with WGAN-GP-eps (gradients zeroed cleanly, as the Swift trainer does).
        oD.zero_grad(set_to_none=True)
        z = torch.randn(a.batch, latent)
        with amp():
            fake = G(z).float().detach()
            dr, df_ = D(real).float().mean(), D(fake).float().mean()
            alpha = torch.rand(a.batch, 1, 1, 1)
            xh = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            score = D(xh).float().sum()
        g, = torch.autograd.grad(score, xh, create_graph=True)
        gp = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
        loss = df_ - dr + 10 * gp + 1e-3 * dr ** 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(D.parameters(), 5.0); oD.step()
        # G step.
        oG.zero_grad(set_to_none=True)
        with amp():
            lg = -D(G(torch.randn(a.batch, latent))).float().mean()
        lg.backward()
        torch.nn.utils.clip_grad_norm_(G.parameters(), 5.0); oG.step()
        return loss.item(), lg.item()
    for _ in range(a.warmup):
        l = iteration(); assert all(map(lambda v: v == v, l)), "non-finite loss"
    times = []
    for _ in range(a.iterations):
        t0 = time.perf_counter(); iteration(); times.append((time.perf_counter() - t0) * 1e3)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"model": "transgan", "framework": "pytorch", "torch": torch.__version__, "config": a.config, "batch": a.batch,
           "precision": a.precision,
           "threads": torch.get_num_threads(), "median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
           "peak_rss_mb": round(rss, 1), "g_params": sum(p.numel() for p in G.parameters()),
           "d_params": sum(p.numel() for p in D.parameters())}
    print(json.dumps(out) if a.json else out)

if __name__ == "__main__":
    main()
