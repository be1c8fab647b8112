"""Read 28x28 uint8 image arrays from Keras-layout .npz files and IDX files.

Numpy only, so the runtime can read the same files that training reads.
Every failure is a DataError with one line naming the file and the problem.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np

from .errors import DataError
from .spec import IMAGE_SIDE

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions.
_IDX_UBYTE = 0x08


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (raw or gzipped) as a uint8 array of its declared shape."""
    data = _read_maybe_gzipped(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    if data[2] != _IDX_UBYTE:
        raise DataError(f"{path}: IDX element type 0x{data[2]:02x} is not unsigned byte (0x08)")
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(data) < header_size:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        raise DataError(
            f"{path}: IDX header declares shape {shape} ({expected} bytes) but the file has {len(data)} bytes"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_maybe_gzipped(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from None


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file, loaded without pickles."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None


def check_images(images: np.ndarray, where: str) -> np.ndarray:
    """Accept only (N, 28, 28) uint8 arrays, the MNIST layout."""
    if images.dtype != np.uint8:
        raise DataError(f"{where}: images must be uint8 (0-255), got {images.dtype}")
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{where}: images must have shape (N, {IMAGE_SIDE}, {IMAGE_SIDE}), got {images.shape}")
    return images


def check_labels(labels: np.ndarray, count: int, where: str) -> np.ndarray:
    if labels.ndim != 1 or labels.shape[0] != count:
        raise DataError(f"{where}: labels must have shape ({count},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: labels must be integers, got {labels.dtype}")
    return labels


def to_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1], as the models expect."""
    return (images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0))


def fingerprint(*arrays: np.ndarray) -> str:
    """sha256 over the arrays' dtypes, shapes and bytes: the same data, whatever file it came in."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
