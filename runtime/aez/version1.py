"""Format version 1 (docs/FORMAT.md "Format version 1"): read as it always was, no longer written."""

from __future__ import annotations

import zlib

import numpy as np

from . import varint
from .layout import (
    _CRC,
    FLAG_ORIGINAL_SIZES,
    MAGIC,
    MAX_CODES,
    MAX_LATENT_SIZE,
    MAX_MODEL_NAME,
    MODEL_ID_LENGTH,
    V1_PRECISIONS,
    CodeFile,
    CodeFileError,
    _checked_count,
    _is_model_id,
    _text,
)
from .precision import _DTYPES


def read_version1(data, max_codes: int = MAX_CODES) -> CodeFile:
    """Format version 1 (docs/FORMAT.md), read as it always was."""
    if len(data) < len(MAGIC) + 4 + _CRC.size:
        raise CodeFileError("truncated code file: shorter than its header")
    reader = _Reader(data, len(MAGIC) + 1, len(data) - _CRC.size)
    precision_code, flags, name_length = reader.unpack("<BBB", "header")
    if precision_code >= len(V1_PRECISIONS):
        raise CodeFileError(f"unknown precision code {precision_code}")
    if flags & ~FLAG_ORIGINAL_SIZES:
        raise CodeFileError(f"unknown flags 0x{flags:02x}")
    if not 1 <= name_length <= MAX_MODEL_NAME:
        raise CodeFileError(f"bad model name length {name_length}")
    model = _text(reader.take(name_length, "model name"), "model name", "ascii")
    if not model.isprintable() or " " in model:  # it is printed in messages: one line, no control characters
        raise CodeFileError("corrupt code file: the model name is not printable")
    model_id = _text(reader.take(MODEL_ID_LENGTH, "model id"), "model id", "ascii")
    if not _is_model_id(model_id):
        raise CodeFileError("corrupt code file: the model id is not 16 lowercase hex digits")
    latent_size, count = reader.unpack("<HI", "header")
    if not 1 <= latent_size <= MAX_LATENT_SIZE:
        raise CodeFileError(f"bad latent size {latent_size}")
    _checked_count(count, max_codes)
    names, sizes, codes = _v1_body(data, reader, V1_PRECISIONS[precision_code], flags, latent_size, count)
    return CodeFile(model, model_id, V1_PRECISIONS[precision_code], codes, names, sizes, version=1)


def _v1_body(data, reader: _Reader, precision: str, flags: int, latent_size: int, count: int):
    """Names, original sizes and codes of a version 1 file, sizes checked before anything is allocated."""
    (stored_crc,) = _CRC.unpack(data[-_CRC.size :])
    itemsize = _DTYPES[precision].itemsize
    # Each code needs at least its 2-byte name length and its payload: check before allocating.
    per_code = 2 + latent_size * itemsize + (8 if flags & FLAG_ORIGINAL_SIZES else 0)
    if count * per_code > reader.end - reader.offset:
        raise CodeFileError(f"truncated code file: it declares {count} codes but holds too few bytes")
    raw_names = [reader.take(reader.unpack("<H", "name")[0], "name") for _ in range(count)]
    raw_sizes = reader.take(8 * count, "original sizes") if flags & FLAG_ORIGINAL_SIZES else None
    payload = reader.take(count * latent_size * itemsize, "payload")
    if reader.offset != reader.end:
        raise CodeFileError(f"corrupt code file: {reader.end - reader.offset} unexpected bytes before the CRC")
    # The structure fits the file's length (else: truncated); now its bytes must be the ones written.
    if zlib.crc32(data[: -_CRC.size]) != stored_crc:
        raise CodeFileError("corrupt code file: CRC32 mismatch")
    names = tuple(_text(raw, "name", "utf-8") for raw in raw_names)
    if len(set(names)) != len(names):
        raise CodeFileError("corrupt code file: duplicate names")
    sizes = None
    if raw_sizes is not None:
        sizes = tuple((int(w), int(h)) for w, h in np.frombuffer(raw_sizes, dtype="<u4").reshape(count, 2))
    return names, sizes, np.frombuffer(payload, dtype=_DTYPES[precision]).reshape(count, latent_size)


class _Reader(varint.Reader):
    """Version 1's reads: varint.Reader's, with version 1's words for a field cut short."""

    def take(self, size: int, what: str) -> bytes:
        if size > self.left:
            raise CodeFileError(f"truncated code file: {what} runs past the end")
        return super().take(size, what)
