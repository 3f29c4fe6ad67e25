#!/usr/bin/env python3
"""Convert the official Paint Transformer PyTorch weights (Huage001/PaintTransformer `model.pth`) to safetensors
that `paint --model OUT --config paper` loads.

The checkpoint is a plain state_dict of `networks.Painter(5, 8, 256, 8, 3, 3)` whose key names are exactly the
ones Atelier uses (enc_img.1.weight, transformer.encoder.layers.0.self_attn.in_proj_weight, query_pos, ...), so
the conversion only drops BatchNorm's `num_batches_tracked` counters (Atelier does not keep them), strips a
`module.` prefix left by DataParallel, checks every tensor against the expected shapes, and writes float32 (or
float16 with --f16) with `config=paper` in the metadata.

Usage:  python3 scripts/convert_paint_transformer.py model.pth paint-transformer-paper.safetensors [--f16]
Needs:  torch, safetensors (pip install torch safetensors). Not run in CI.
"""
import argparse
import sys

import torch
from safetensors.torch import save_file

D, HEADS, FFN, STROKES, LAYERS = 256, 8, 2048, 8, 3


def expected_shapes():
    shapes = {}
    for enc in ("enc_img", "enc_canvas"):
        for index, (cin, cout) in zip((1, 5, 9), ((3, 32), (32, 64), (64, 128))):
            shapes[f"{enc}.{index}.weight"] = (cout, cin, 3, 3)
            shapes[f"{enc}.{index}.bias"] = (cout,)
            for name in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{enc}.{index + 1}.{name}"] = (cout,)
    shapes["conv.weight"] = (D, 256, 1, 1)
    shapes["conv.bias"] = (D,)

    def attention(prefix):
        shapes[f"{prefix}.in_proj_weight"] = (3 * D, D)
        shapes[f"{prefix}.in_proj_bias"] = (3 * D,)
        shapes[f"{prefix}.out_proj.weight"] = (D, D)
        shapes[f"{prefix}.out_proj.bias"] = (D,)

    for part, norms in (("encoder", 2), ("decoder", 3)):
        for i in range(LAYERS):
            p = f"transformer.{part}.layers.{i}"
            attention(f"{p}.self_attn")
            if part == "decoder":
                attention(f"{p}.multihead_attn")
            shapes[f"{p}.linear1.weight"] = (FFN, D)
            shapes[f"{p}.linear1.bias"] = (FFN,)
            shapes[f"{p}.linear2.weight"] = (D, FFN)
            shapes[f"{p}.linear2.bias"] = (D,)
            for n in range(1, norms + 1):
                shapes[f"{p}.norm{n}.weight"] = (D,)
                shapes[f"{p}.norm{n}.bias"] = (D,)
        shapes[f"transformer.{part}.norm.weight"] = (D,)
        shapes[f"transformer.{part}.norm.bias"] = (D,)
    for index, out in ((0, D), (2, D), (4, 5)):
        shapes[f"linear_param.{index}.weight"] = (out, D)
        shapes[f"linear_param.{index}.bias"] = (out,)
    shapes["linear_decider.weight"] = (1, D)
    shapes["linear_decider.bias"] = (1,)
    shapes["query_pos"] = (STROKES, D)
    shapes["row_embed"] = (8, D // 2)
    shapes["col_embed"] = (8, D // 2)
    return shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_pth")
    parser.add_argument("output")
    parser.add_argument("--f16", action="store_true", help="store float16 (half the size)")
    args = parser.parse_args()

    state = torch.load(args.model_pth, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    tensors = {}
    for key, value in state.items():
        key = key[len("module."):] if key.startswith("module.") else key
        if key.endswith("num_batches_tracked"):
            continue
        tensors[key] = value.detach().to(torch.float16 if args.f16 else torch.float32).contiguous()

    expected = expected_shapes()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in expected if k in tensors and tuple(tensors[k].shape) != expected[k])
    if missing or extra or wrong:
        for k in missing[:10]:
            print(f"missing: {k}", file=sys.stderr)
        for k in extra[:10]:
            print(f"unexpected: {k}", file=sys.stderr)
        for k in wrong[:10]:
            print(f"shape: {k} is {tuple(tensors[k].shape)}, expected {expected[k]}", file=sys.stderr)
        sys.exit("error: this is not the paper Paint Transformer state_dict (9,072,902 parameters)")
    count = sum(t.numel() for k, t in tensors.items() if "running_" not in k)
    assert count == 9_072_902, count
    save_file(tensors, args.output, metadata={"config": "paper", "format": "atelier.paint-transformer.weights",
                                              "source": "converted from PyTorch model.pth"})
    print(f"wrote {args.output}: {len(tensors)} tensors, {count:,} parameters; run: paint PHOTO --model {args.output} --config paper")


if __name__ == "__main__":
    main()
