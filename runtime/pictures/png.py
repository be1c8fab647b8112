"""PNG files for many small pictures at once, byte for byte what Pillow writes with `optimize=True`, at a
fraction of its cost per picture (docs/benchmarks.md): `decompress` writes one PNG per code.

Pillow's encoder (libImaging/ZipEncode.c) filters each row with whichever of None, Up, Sub, Average and
Paeth (tried in that order, a later one only when strictly better) gives the least total distance from
zero, min(v, 256 - v), and deflates the rows at level 9, window 15, memory level 9, strategy Z_FILTERED,
into one IDAT chunk for pictures this small. Here the filters of a whole batch are chosen at once with
numpy; only the deflate runs per picture. tests/test_png.py holds the bytes equal to Pillow's.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type: greyscale, truecolour
# Filter types in the order Pillow tries them: on a tie the earlier one stays.
FILTER_ORDER = np.array([0, 2, 1, 3, 4], np.uint8)  # None, Up, Sub, Average, Paeth


def png_files(images: np.ndarray) -> list[bytes]:
    """uint8 pictures (N, H, W) grey or (N, H, W, 3) RGB -> each one's PNG file bytes."""
    images = np.ascontiguousarray(images, np.uint8)
    channels = images.shape[3] if images.ndim == 4 else 1
    count, height, width = images.shape[:3]
    header = SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[channels], 0, 0, 0))
    end = _chunk(b"IEND", b"")
    rows = filtered_rows(images.reshape(count, height, width * channels), channels).tobytes()
    size = len(rows) // count if count else 0  # one copy out of numpy, then a slice per picture
    return [header + _chunk(b"IDAT", deflate(rows[i : i + size])) + end for i in range(0, len(rows), size or 1)]


def filtered_rows(rows: np.ndarray, step: int) -> np.ndarray:
    """uint8 [N, H, R] rows of R bytes, pixels `step` bytes apart -> [N, H, 1 + R]: each row behind the byte of
    the filter Pillow would choose for it, filtered by it."""
    above = np.zeros_like(rows)
    above[:, 1:] = rows[:, :-1]
    left, upper_left = np.zeros_like(rows), np.zeros_like(rows)
    left[..., step:], upper_left[..., step:] = rows[..., :-step], above[..., :-step]
    candidates = np.empty((len(FILTER_ORDER), *rows.shape), np.uint8)  # in FILTER_ORDER
    candidates[0] = rows
    np.subtract(rows, above, out=candidates[1])
    np.subtract(rows, left, out=candidates[2])
    np.subtract(rows, ((left.astype(np.uint16) + above) >> 1).astype(np.uint8), out=candidates[3])
    np.subtract(rows, _paeth(left, above, upper_left), out=candidates[4])
    # Pillow's distance of a byte v from zero, min(v, 256 - v), is |v| read as a signed byte (128 for -128).
    distance = np.abs(candidates.view(np.int8)).view(np.uint8).sum(axis=-1, dtype=np.int32)  # [5, N, H]
    chosen = np.argmin(distance, axis=0)  # the first of the least: Pillow's strict "<" in its order
    filtered = np.empty((*rows.shape[:-1], rows.shape[-1] + 1), np.uint8)
    filtered[..., 0] = FILTER_ORDER[chosen]
    filtered[..., 1:] = np.take_along_axis(candidates, chosen[None, ..., None], axis=0)[0]
    return filtered


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The Paeth predictor of each byte from its left (a), upper (b) and upper-left (c) neighbours."""
    a16, b16, c16 = (v.astype(np.int16) for v in (a, b, c))
    pa, pb, pc = np.abs(b16 - c16), np.abs(a16 - c16), np.abs(a16 + b16 - 2 * c16)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def deflate(data: bytes) -> bytes:
    """One picture's filtered rows as Pillow deflates them (bench.workers times it alone)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FILTERED)
    return compressor.compress(data) + compressor.flush()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
