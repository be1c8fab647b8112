"""The short frame (docs/FORMAT.md "Short frame"): one entropy-coded code with no name and no original size,
what `compress img.png` writes; 15 bytes of frame where the full header, index and CRC take 25 or more."""

from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np

from . import entropy
from .layout import (
    _CRC,
    _KINDS,
    _SHORT_HEADER_BYTES,
    FLAG_SHORT,
    FORMAT_VERSION,
    MAGIC,
    MAX_LATENT_SIZE,
    SHORT_ID_BYTES,
    Coded,
    CodeFile,
    CodeFileError,
    _kind,
    default_names,
)
from .precision import CODED


def frame(precision, id_prefix: str, code) -> bytes:
    """The bytes of a short-frame file (FORMAT.md "Short frame")."""
    head = MAGIC + bytes([FORMAT_VERSION, _KINDS[precision], FLAG_SHORT]) + bytes.fromhex(id_prefix) + bytes(code)
    return head + _CRC.pack(zlib.crc32(head))


def read(data) -> CodeFile:
    """A short-frame file: one entropy-coded code, named after the file by its reader (shards.read_file)."""
    if len(data) < _SHORT_HEADER_BYTES + _CRC.size:
        raise CodeFileError("truncated code file: shorter than its header")
    (stored_crc,) = _CRC.unpack(data[-_CRC.size :])
    if zlib.crc32(data[: -_CRC.size]) != stored_crc:
        raise CodeFileError("corrupt code file: CRC32 mismatch (a damaged or truncated code file)")
    precision = _kind(data[len(MAGIC) + 1])
    if precision not in CODED:
        raise CodeFileError(f"corrupt code file: a short frame holds an entropy-coded code, not {precision}")
    model_id = bytes(data[_SHORT_HEADER_BYTES - SHORT_ID_BYTES : _SHORT_HEADER_BYTES]).hex()
    body = memoryview(data)[_SHORT_HEADER_BYTES : -_CRC.size]
    if len(body) > entropy.max_code_bytes(MAX_LATENT_SIZE):
        raise CodeFileError(f"corrupt code file: a code of {len(body)} bytes is longer than any")
    coded = Coded(body, np.array([len(body)], np.int64), 0)  # its latent size: the model's (complete)
    return CodeFile("", model_id, precision, None, default_names(1), None, coded, 2, named=False)


def complete(code_file: CodeFile, model: str, model_id: str, latent_size: int, image_shape=None) -> CodeFile:
    """A short-frame file as the model whose id begins with its prefix made it: named, its id, latent size
    and image shape (a model of your own's) the model's, as a file with the long header says them."""
    if not code_file.short or not model_id.startswith(code_file.model_id):
        return code_file
    if len(code_file.coded.body) > entropy.max_code_bytes(latent_size):
        raise CodeFileError(f"corrupt code file: a code of {len(code_file.coded.body)} bytes for {latent_size} values")
    coded = replace(code_file.coded, latent_size=latent_size)
    shape = tuple(image_shape) if image_shape is not None else None
    return replace(code_file, model=model, model_id=model_id, coded=coded, image_shape=shape)
