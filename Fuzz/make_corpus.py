#!/usr/bin/env python3
"""Writes the seed corpora (Fuzz/corpus/<target>/) and the known-bad inputs (Fuzz/regressions/<target>/).

Seeds are small valid files of every kind each loader reads, so libFuzzer starts inside the formats rather than at
their signatures. PNG, BMP, GIF, IDX, CIFAR-10 and safetensors files are written byte by byte here; JPEGs come from
libjpeg-turbo's TurboJPEG library (libturbojpeg0-dev) through ctypes. Run from anywhere: python3 Fuzz/make_corpus.py
"""
import ctypes
import gzip
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def save(kind, target, name, data):
    folder = os.path.join(HERE, kind, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# --- PNG: signature, then chunks of big-endian length, type, data, CRC-32 of type + data.

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png(width, height, depth, color, rows, extra=b""):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    raw = b"".join(b"\0" + row for row in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


# --- BMP: 14-byte file header, 40-byte info header, palette, bottom-up rows padded to 4 bytes.

def bmp(width, height, bits, rows, palette=b"", top_down=False):
    row_bytes = (width * bits + 31) // 32 * 4
    offset = 14 + 40 + len(palette)
    pixels = b"".join(row.ljust(row_bytes, b"\0") for row in (rows if top_down else reversed(rows)))
    header = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, -height if top_down else height, 1, bits, 0, len(pixels),
                       2835, 2835, len(palette) // 4, 0)
    return header + info + palette + pixels


# --- GIF with 4 colours (LZW minimum code size 2): a clear code before every pair of pixels keeps every code
# 3 bits wide, which is valid LZW without implementing the dictionary.

def lzw(indices):
    codes = []
    for i in range(0, len(indices), 2):
        codes += [4] + list(indices[i:i + 2])
    codes.append(5)  # end of information
    bits = "".join(format(c, "03b")[::-1] for c in codes)  # least significant bit first
    data = bytes(int(bits[i:i + 8][::-1], 2) for i in range(0, len(bits), 8))
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    return bytes([2]) + blocks + b"\0"


def gif(screen, frame, indices, transparent=None, interlaced=False, local=False):
    colors = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    out = b"GIF89a" + struct.pack("<HH", *screen) + bytes([0x00 if local else 0xF1, 0, 0])
    out += b"" if local else colors
    if transparent is not None:
        out += b"\x21\xF9\x04" + bytes([1]) + struct.pack("<H", 10) + bytes([transparent, 0])
    left, top, width, height = frame
    flags = (0x80 | 0x01 if local else 0) | (0x40 if interlaced else 0)
    out += b"\x2C" + struct.pack("<HHHH", left, top, width, height) + bytes([flags]) + (colors if local else b"")
    rows = list(range(height))
    if interlaced:
        rows = [r for start, step in ((0, 8), (4, 8), (2, 4), (1, 2)) for r in range(start, height, step)]
    ordered = [indices[r * width + x] for r in rows for x in range(width)]
    return out + lzw(ordered) + b"\x3B"


# --- JPEG through TurboJPEG.

def jpeg(width, height, channels, pixels, subsampling, flags=0):
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    buffer, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    pixel_format = {1: 6, 3: 0}[channels]  # TJPF_GRAY, TJPF_RGB
    status = tj.tjCompress2(handle, bytes(pixels), width, 0, height, pixel_format, ctypes.byref(buffer),
                            ctypes.byref(size), subsampling, 90, flags)
    assert status == 0, "tjCompress2 failed"
    data = ctypes.string_at(buffer, size.value)
    tj.tjFree(buffer)
    tj.tjDestroy(handle)
    return data


def gradient(width, height, channels):
    return bytes((x * 37 + y * 11 + c * 80) % 256 for y in range(height) for x in range(width) for c in range(channels))


def images():
    rows = lambda w, h, n: [gradient(w, h, n)[y * w * n:(y + 1) * w * n] for y in range(h)]
    seeds = {
        "gray.png": png(5, 3, 8, 0, rows(5, 3, 1)),
        "rgb.png": png(4, 4, 8, 2, rows(4, 4, 3)),
        "rgba.png": png(3, 2, 8, 6, rows(3, 2, 4)),
        "gray-alpha-16.png": png(2, 2, 16, 4, rows(2, 2, 4)),
        "palette-trns.png": png(4, 1, 8, 3, [bytes([0, 1, 2, 1])],
                                chunk(b"PLTE", bytes(range(9))) + chunk(b"tRNS", bytes([255, 0]))),
        "rgb-444.jpg": jpeg(8, 8, 3, gradient(8, 8, 3), 0),
        "rgb-420.jpg": jpeg(16, 16, 3, gradient(16, 16, 3), 2),
        "gray-progressive.jpg": jpeg(9, 7, 1, gradient(9, 7, 1), 3, flags=16384),
        "transparent-interlaced.gif": gif((6, 5), (1, 1, 4, 4), [i % 4 for i in range(16)], transparent=2, interlaced=True),
        "local-map.gif": gif((3, 2), (0, 0, 3, 2), [0, 1, 2, 3, 2, 1], local=True),
        "bgr-24.bmp": bmp(3, 2, 24, rows(3, 2, 3)),
        "bgrx-32-top-down.bmp": bmp(2, 2, 32, rows(2, 2, 4), top_down=True),
        "palette-8.bmp": bmp(3, 2, 8, [bytes([0, 1, 2]), bytes([2, 1, 0])], palette=bytes(range(12))),
    }
    for name, data in seeds.items():
        save("corpus", "images", name, data)
        if not name.endswith(".jpg"):
            save("corpus", "brushes", name, data)
    save("corpus", "brushes", "gray.jpg", seeds["gray-progressive.jpg"])

    # Known-bad inputs: issue 11's stb recipes (a 16-bit PGM, also named .png, and a truncated RLE Radiance HDR),
    # headers announcing huge sizes, and JPEG Huffman tables whose counts overflow the code space (the shape of
    # the 52 mutations that made stb write out of bounds).
    bad = {
        "pgm-16bit.png": b"P5\n8000 8000\n65535\n" + bytes(64),
        "radiance-rle.hdr": b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 4 +X 16\n" + bytes([2, 2, 0, 16]),
        "png-100000x100000.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
                                 + chunk(b"IDAT", b"") + chunk(b"IEND", b""),
        "truncated.png": seeds["rgb.png"][:60],
        "truncated.jpg": seeds["rgb-420.jpg"][: len(seeds["rgb-420.jpg"]) // 2],
        "truncated.gif": seeds["local-map.gif"][:30],
        "truncated.bmp": seeds["bgr-24.bmp"][:60],
    }
    # Sizes sit at bytes 18-25 of a BMP and 6-9 of a GIF.
    one_pixel = bmp(1, 1, 24, [b"\1\2\3"])
    bad["bmp-100000x100000.bmp"] = one_pixel[:18] + struct.pack("<ii", 100000, 100000) + one_pixel[26:]
    tiny_gif = gif((2, 2), (0, 0, 2, 2), [0, 1, 2, 3])
    bad["gif-65000x65000.gif"] = tiny_gif[:6] + struct.pack("<HH", 65000, 65000) + tiny_gif[10:]
    base = seeds["rgb-444.jpg"]
    sof = base.index(b"\xFF\xC0")
    bad["jpeg-65000x65000.jpg"] = base[:sof + 5] + struct.pack(">HH", 65000, 65000) + base[sof + 9:]
    dht = base.index(b"\xFF\xC4")
    bad["jpeg-huffman-counts-overflow.jpg"] = base[:dht + 5] + bytes([255] * 16) + base[dht + 21:]
    bad["jpeg-huffman-too-many-codes.jpg"] = base[:dht + 5] + bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200]) + base[dht + 21:]
    # Found by fuzzing: an empty file made Foundation's reader leak its first 4 KiB buffer (FileContents.swift).
    bad["empty.png"] = b""
    for name, data in bad.items():
        save("regressions", "images", name, data)
        save("regressions", "brushes", name, data)


# --- safetensors: 8-byte little-endian header length, JSON header, data.

def safetensors(tensors, metadata):
    header, data = {}, b""
    for name, (dtype, shape, raw) in sorted(tensors.items()):
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


def checkpoints():
    f32 = struct.pack("<4f", 0.5, -1.0, 2.0, 0.0)
    micro = {"name": "micro", "channels": 3, "imageSize": 32, "latentDim": 64, "bottomWidth": 8, "gfDim": 128,
             "gDepths": [1, 1, 1], "gHeads": 4, "gWindow": 16, "gridAttentionFrom": 64, "mlpRatio": 4, "dfDim": 64,
             "patchSize": 2, "dDepth": 1, "dHeads": 4}
    options = {"loss": "wgangp-eps", "batch": 64, "gBatch": 128, "nCritic": 4, "gLearningRate": 1e-4,
               "dLearningRate": 1e-4, "beta1": 0, "beta2": 0.99, "clipNorm": 5, "gpWeight": 10, "gpEvery": 1,
               "r1Gamma": 0.1, "driftWeight": 1e-3, "emaKimg": 500, "emaWarmup": 0.1, "emaBeta": 0.9999,
               "augment": "translation,cutout,color", "flip": True, "seed": 12345, "data": "synthetic"}
    seeds = {
        "tensors.safetensors": safetensors({"a.weight": ("F32", [2, 2], f32), "b.half": ("F16", [3], struct.pack("<3e", 1, -2, 0.25)),
                                            "c.index": ("I64", [2], struct.pack("<2q", 7, -3)), "d.empty": ("F64", [0], b"")},
                                           {"note": "seed"}),
        "transgan.safetensors": safetensors({"gen.x": ("F32", [4], f32)},
                                            {"config": json.dumps(micro), "options": json.dumps(options), "step": "12",
                                             "rng.seed": "1", "rng.offset": "2"}),
        "paint-transformer.safetensors": safetensors({"seed.unused": ("F32", [4], f32)},
                                                     {"config": "tiny", "data_rng.state": "5", "dropout_rng.seed": "1",
                                                      "dropout_rng.offset": "0", "batch": "8", "total_steps": "100",
                                                      "step": "3", "learning_rate": "0.0001", "seed": "9",
                                                      "loss_weights": "pixel=10,parameters=1"}),
    }
    for name, data in seeds.items():
        save("corpus", "checkpoints", name, data)
    bad = {
        "header-length-beyond-file.safetensors": struct.pack("<Q", 1 << 40) + b"{}",
        "offsets-beyond-data.safetensors": struct.pack("<Q", 64)
        + b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8000]}}'.ljust(64) + bytes(8),
        "shape-overflow.safetensors": struct.pack("<Q", 80)
        + b'{"x":{"dtype":"F32","shape":[4294967296,4294967296,8],"data_offsets":[0,0]}}'.ljust(80),
        "transgan-huge-latent.safetensors": safetensors({}, {"config": json.dumps(dict(micro, latentDim=1 << 40))}),
    }
    for name, data in bad.items():
        save("regressions", "checkpoints", name, data)


# --- Fashion-MNIST IDX pair: byte 0 flags (bit 0: pad to 32), bytes 1-2 the labels file's length, labels, images.

def idx_pair(labels, images, pad=False):
    return bytes([1 if pad else 0]) + struct.pack("<H", len(labels)) + labels + images


def idx():
    count, side = 3, 4
    labels = struct.pack(">II", 0x0801, count) + bytes([0, 9, 4])
    images = struct.pack(">IIII", 0x0803, count, side, side) + bytes(range(count * side * side))
    save("corpus", "idx", "plain.bin", idx_pair(labels, images))
    save("corpus", "idx", "gzip-padded.bin", idx_pair(gzip.compress(labels, mtime=0), gzip.compress(images, mtime=0), pad=True))
    save("regressions", "idx", "huge-count.bin", idx_pair(labels, struct.pack(">IIII", 0x0803, 10_000_000, 0, 28)))
    save("regressions", "idx", "dimension-overflow.bin", idx_pair(labels, struct.pack(">IIII", 0x0803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)))
    save("regressions", "idx", "truncated-gzip.bin", idx_pair(labels, gzip.compress(images, mtime=0)[:30]))


def cifar():
    records = b"".join(bytes([label]) + bytes((i * 7 + label) % 256 for i in range(3072)) for label in (3, 9))
    save("corpus", "cifar", "two-records.bin", records)
    save("regressions", "cifar", "bad-label.bin", bytes([10]) + bytes(3072))
    save("regressions", "cifar", "truncated.bin", records[:4000])
    save("regressions", "cifar", "empty.bin", b"")  # found by fuzzing: the 4 KiB leak of an empty file (FileContents.swift)


if __name__ == "__main__":
    images()
    checkpoints()
    idx()
    cifar()
