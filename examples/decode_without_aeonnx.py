"""Decode an aeonnx .aez file with plain onnxruntime and numpy: no aeonnx needed.

    python decode_without_aeonnx.py CODE.aez DECODER.onnx OUT.png

DECODER.onnx is the decoder (AE) or generator (VAE) named in the code file.
The format is docs/FORMAT.md; this is all a reader needs.
"""

import json
import struct
import sys
import zlib

import numpy as np
import onnxruntime
from PIL import Image

DTYPES = {0: "<f4", 1: "<f2", 2: "u1"}  # float32, float16, uint8


def read_aez(data: bytes):
    assert data[:4] == b"AEZ\x1a" and data[4] == 1, "not a version-1 .aez file"
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4]), "corrupt file"
    precision, flags, name_length = data[5], data[6], data[7]
    at = 8
    model = data[at : at + name_length].decode()
    model_id = data[at + name_length : at + name_length + 16].decode()
    at += name_length + 16
    latent_size, count = struct.unpack_from("<HI", data, at)
    at += 6
    names = []
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, at)
        names.append(data[at + 2 : at + 2 + length].decode())
        at += 2 + length
    if flags & 1:  # original (width, height) of each image
        at += 8 * count
    codes = np.frombuffer(data, DTYPES[precision], count * latent_size, at).reshape(count, latent_size)
    return model, model_id, precision, names, codes


def main(code_path, decoder_path, out_path):
    model, model_id, precision, names, codes = read_aez(open(code_path, "rb").read())
    session = onnxruntime.InferenceSession(decoder_path, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["aeonnx.model_id"] == model_id, f"code made by {model} {model_id}, not by this decoder"
    z = codes.astype(np.float32)
    if precision == 2:  # uint8: dequantise with the model's per-dimension range
        stats = json.loads(meta["aeonnx.latent_stats"])
        z_min, z_max = np.float32(stats["min"]), np.float32(stats["max"])
        scale = np.where(z_max > z_min, (z_max - z_min) / np.float32(255), np.float32(1))
        z = z_min + z * scale
    (x_hat,) = session.run(["x_hat"], {"z": z})
    digits = np.clip(np.rint(x_hat * 255), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    Image.fromarray(np.hstack(list(digits))).save(out_path)  # the digits side by side
    print(f"{out_path}: {len(names)} digit(s): {', '.join(names)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
