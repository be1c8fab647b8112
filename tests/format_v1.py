"""Format version 1's writer, kept for tests only: the reader must keep reading what it wrote."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from aeonnx.runtime.aez.codefile import MAGIC, V1_PRECISIONS, CodeFile

_DTYPES = {"float32": "<f4", "float16": "<f2", "uint8": "u1"}


def v1_bytes(code_file: CodeFile) -> bytes:
    """The version 1 file of `code_file` (codes stored as float32, float16 or uint8), as aeonnx 0.1 wrote it."""
    cf = code_file
    count, latent_size = cf.codes.shape
    flags = 1 if cf.original_sizes is not None else 0
    body = bytearray(MAGIC)
    body += struct.pack("<BBBB", 1, V1_PRECISIONS.index(cf.precision), flags, len(cf.model)) + cf.model.encode("ascii")
    body += cf.model_id.encode("ascii") + struct.pack("<HI", latent_size, count)
    for name in cf.names:
        encoded = name.encode("utf-8")
        body += len(encoded).to_bytes(2, "little") + encoded
    if cf.original_sizes is not None:
        body += np.asarray(cf.original_sizes, dtype="<u4").reshape(count, 2).tobytes()
    body += np.ascontiguousarray(cf.codes, dtype=_DTYPES[cf.precision]).tobytes()
    return bytes(body + struct.pack("<I", zlib.crc32(body)))
