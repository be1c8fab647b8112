"""Decode an aeonnx .aez file with plain onnxruntime and numpy: no aeonnx needed.

    python decode_without_aeonnx.py CODE.aez DECODER.onnx OUT.png

DECODER.onnx is the decoder (AE) or generator (VAE) of the model that made the code file (rd's, for what
`aeonnx compress` writes by default; a one-image file names its model by the first 8 hex digits of its id).
The format is docs/FORMAT.md; this is all a reader needs (written from that
document alone, without the bounds checks a reader of untrusted files makes).
"""

import base64
import json
import re
import struct
import sys
import zlib

import numpy as np
import onnxruntime
from PIL import Image

FLOATS = {0: "<f4", 1: "<f2"}  # version 2 kinds; 4-8 are entropy-coded at that many bits, 17-24 at quality 1-8
QUALITY_KIND = 16
V1_DTYPES = {0: "<f4", 1: "<f2", 2: "u1"}  # version 1: float32, float16, uint8


def varint(data, at):
    value = shift = 0
    while True:
        byte, at = data[at], at + 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def varint_backwards(data, end):
    """The varint whose last byte is data[end - 1]; (value, where it starts)."""
    value = shift = 0
    while True:
        end -= 1
        value |= (data[end] & 0x7F) << shift
        shift += 7
        if data[end] < 0x80:
            return value, end


def read_names(data, at, count):
    names, previous = [], b""
    while len(names) < count:
        tag, at = varint(data, at)
        if tag == 0:  # a run: the previous name's last digits counted up
            run, at = varint(data, at)
            digits = re.search(rb"([0-9]+)[^0-9]*\Z", previous)
            head, tail, width = previous[: digits.start(1)], previous[digits.end(1) :], len(digits.group(1))
            names += [head + str(int(digits.group(1)) + k).zfill(width).encode() + tail for k in range(1, run + 1)]
            previous = names[-1]
        else:  # tag - 1 bytes of the previous name, then a suffix
            length, at = varint(data, at)
            previous = previous[: tag - 1] + data[at : at + length]
            names.append(previous)
            at += length
    return [name.decode() for name in names], at


def read_aez(data: bytes):
    """(model, model_id, kind, names, codes): float codes [N, L], or entropy-coded codes as byte strings."""
    assert data[:4] == b"AEZ\x1a", "not an .aez file"
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4]), "corrupt file"
    if data[4] == 1:
        return read_aez_v1(data)
    assert data[4] == 2, "not a version 1 or 2 .aez file"
    if data[6] == 0x08:  # the short frame: one code, its model named by its id's first 4 bytes
        return None, data[7:11].hex(), data[5], ["00000"], [data[11:-4]]
    kind, flags, name_length = data[5], data[6], data[7]
    model = data[8 : 8 + name_length].decode()
    model_id = data[8 + name_length : 16 + name_length].hex()
    latent_size, body_start = varint(data, 16 + name_length)
    if flags & 4:  # the image shape of a conv model or one of your own: its number of sizes, then each
        dims, body_start = varint(data, body_start)
        for _ in range(dims):
            _, body_start = varint(data, body_start)
    index_length, index_end = varint_backwards(data, len(data) - 4)
    body, at = data[body_start : index_end - index_length], index_end - index_length
    count, at = varint(data, at)
    if kind in FLOATS:
        codes = np.frombuffer(body, FLOATS[kind]).reshape(count, latent_size)
    else:
        lengths = []
        for _ in range(count - 1):
            length, at = varint(data, at)
            lengths.append(length)
        lengths.append(len(body) - sum(lengths))  # the last code: what is left of the body
        starts = np.cumsum([0] + lengths)
        codes = [body[starts[i] : starts[i + 1]] for i in range(count)]
    names = read_names(data, at, count)[0] if flags & 2 else [f"{i:05d}" for i in range(count)]
    return model, model_id, kind, names, codes


def read_aez_v1(data: bytes):
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
    codes = np.frombuffer(data, V1_DTYPES[precision], count * latent_size, at).reshape(count, latent_size)
    return model, model_id, {0: 0, 1: 1, 2: 8}[precision], names, codes  # v1's uint8 is 8 bits


def decode_code(code: bytes, frequencies, owner, rank, precision: int) -> list[int]:
    """One entropy-coded code -> its L quantised values (FORMAT.md, "Decoding one code")."""
    k = len(code) if len(code) <= 4 else (3 if len(code) % 2 else 4)
    x, p = int.from_bytes(code[:k], "little"), k
    values = []
    for i in range(len(frequencies)):
        j = x & ((1 << precision) - 1)
        s = owner[i][j]
        x = int(frequencies[i][s]) * (x >> precision) + rank[i][j]
        if x < 1 << 16 and p < len(code):
            x = (x << 16) | code[p] | (code[p + 1] << 8)
            p += 2
        values.append(s)
    assert x == 0 and p == len(code), "corrupt code"
    return values


def slots(frequencies):
    """One dimension's slot owners and ranks: the pairs (s, k) sorted by (2k + 1) / f[s], then s."""
    pairs = sorted(((2 * k + 1) / f, s, k) for s, f in enumerate(frequencies) for k in range(f))
    return [s for _, s, _ in pairs], [k for _, _, k in pairs]


def decode_codes(codes, encoded_frequencies: str, bits: int, precision: int) -> np.ndarray:
    """Every code's symbols [N, L], with the table of base64 frequencies ([L][2**bits] little-endian uint16)."""
    frequencies = np.frombuffer(base64.b64decode(encoded_frequencies), "<u2").reshape(-1, 1 << bits)
    tables = [slots(row.tolist()) for row in frequencies]
    owner, rank = [t[0] for t in tables], [t[1] for t in tables]
    return np.array([decode_code(c, frequencies, owner, rank, precision) for c in codes], np.int64)


def level_latents(meta, quality: int, codes) -> np.ndarray:
    """Quality-level codes (FORMAT.md "Quality levels"): symbols from the level's table, (s + offset) / gain."""
    document = json.loads(meta["aeonnx.quality_levels"])
    level = document["levels"][quality - 1]
    symbols = decode_codes(codes, level["frequencies"], level["bits"], document["precision"])
    gains = np.frombuffer(base64.b64decode(level["gains"]), "<f4")
    offsets = np.array(level["offsets"], np.int64)
    return ((symbols + offsets).astype(np.float32) / gains).astype(np.float32)


def latents(meta, kind, codes) -> np.ndarray:
    if kind in FLOATS:
        return codes.astype(np.float32)
    if kind > QUALITY_KIND:
        return level_latents(meta, kind - QUALITY_KIND, codes)
    bits = kind
    if isinstance(codes, list):  # entropy-coded: decode with the model's priors for `bits`
        priors = json.loads(meta["aeonnx.latent_priors"])
        codes = decode_codes(codes, priors["frequencies"][str(bits)], bits, priors["precision"])
    stats = json.loads(meta["aeonnx.latent_stats"])  # dequantise with the model's per-dimension range
    z_min, z_max = np.float32(stats["min"]), np.float32(stats["max"])
    scale = (z_max - z_min) / np.float32((1 << bits) - 1)
    scale = np.where(scale > 0, scale, np.float32(1)).astype(np.float32)
    return (z_min + codes.astype(np.float32).reshape(len(codes), -1) * scale).astype(np.float32)


def main(code_path, decoder_path, out_path):
    model, model_id, kind, names, codes = read_aez(open(code_path, "rb").read())
    session = onnxruntime.InferenceSession(decoder_path, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["aeonnx.model_id"].startswith(model_id), f"code made by {model} {model_id}, not by this decoder"
    (x_hat,) = session.run(["x_hat"], {"z": latents(meta, kind, codes)})
    digits = np.clip(np.rint(x_hat * 255), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    Image.fromarray(np.hstack(list(digits))).save(out_path)  # the digits side by side
    print(f"{out_path}: {len(names)} digit(s): {', '.join(names)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
