"""Makes reference.safetensors, the fixture SafeTensorsTests loads to check Atelier reads files written by
Python's `safetensors` package. Run from this folder: python3 make_safetensors_fixture.py
(needs: pip install safetensors numpy). The expected values are repeated in SafeTensorsTests.swift.
"""
import json
import struct

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

tensors = {
    "weights.f32": np.array([[0.0, 1.0, -2.5], [3.1415927, 1e-30, 65504.0]], dtype=np.float32),
    "weights.f16": np.array([1.0, -2.0, 0.5, 65504.0, 2.0**-14, 2.0**-24, np.inf, -0.0], dtype=np.float16),
    "stats.f64": np.array([0.1, -1e300], dtype=np.float64),
    "step": np.array([-1, 2**40], dtype=np.int64),
    "bytes": np.array([0, 255], dtype=np.uint8),
    # Stored as U16 bit patterns, relabelled BF16 below: numpy has no bfloat16.
    "weights.bf16": np.array([0x3F80, 0xC000, 0x4049, 0x7F80, 0x0001], dtype=np.uint16),
}
save_file(tensors, "reference.safetensors", metadata={"format": "pt", "note": "made by make_safetensors_fixture.py"})

# Relabel the U16 entry as BF16 (same element size, so offsets stay valid) and re-pad the header.
with open("reference.safetensors", "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8 : 8 + n])
data = blob[8 + n :]
header["weights.bf16"]["dtype"] = "BF16"
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-(8 + len(text)) % 8)
with open("reference.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)

# The package itself must still accept the relabelled file.
with safe_open("reference.safetensors", framework="numpy") as f:
    assert sorted(f.keys()) == sorted(tensors), f.keys()
    assert f.metadata()["format"] == "pt"
    assert (f.get_tensor("weights.f32") == tensors["weights.f32"]).all()
print("wrote reference.safetensors")
