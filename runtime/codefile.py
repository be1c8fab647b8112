"""The `.aez` code file (docs/FORMAT.md): latents <-> file bytes, and nothing else.

Owns the whole path between a model's latent vectors and a file: quantise, frame, write; read,
check which model made the codes, dequantise. Refuses anything else with one clear line. The model
(model.py) owns running ONNX; it hands over latents and its `Binding`, and gets latents back.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .errors import AeonnxError, DataError

MAGIC = b"AEZ\x1a"
FORMAT_VERSION = 1
PRECISIONS = ("float32", "float16", "uint8")
_DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "uint8": np.dtype("u1")}
FLAG_ORIGINAL_SIZES = 0x01
MAX_LATENT_SIZE = 4096
MAX_MODEL_NAME = 32
MODEL_ID_LENGTH = 16
_CRC = struct.Struct("<I")


class CodeFileError(AeonnxError):
    """A code file that is not a valid .aez file of a version we read."""


@dataclass(frozen=True)
class CodeFile:
    model: str
    model_id: str
    precision: str
    codes: np.ndarray  # [N, L] in the precision's dtype (quantised for uint8)
    names: tuple[str, ...]
    original_sizes: tuple[tuple[int, int], ...] | None = None  # (width, height) per code

    @property
    def latent_size(self) -> int:
        return self.codes.shape[1]

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Binding:
    """What ties codes to one trained model: its name and id, and the per-dimension range of its
    latents over the training set (`aeonnx.latent_stats`), which quantisation is relative to."""

    model: str
    model_id: str
    z_min: np.ndarray  # float32 [L]
    z_max: np.ndarray  # float32 [L]


def pack(z: np.ndarray, precision: str, binding: Binding, names, original_sizes=None) -> bytes:
    """Latents float32 [N, L] -> the bytes of one .aez file at `precision`."""
    return pack_codes(quantize(z, precision, binding), precision, binding, names, original_sizes)


def pack_codes(codes: np.ndarray, precision: str, binding: Binding, names, original_sizes=None) -> bytes:
    """Codes already quantised (`quantize`) -> the bytes of one .aez file."""
    return to_bytes(CodeFile(binding.model, binding.model_id, precision, codes, tuple(names), original_sizes))


def latents(code_file: CodeFile, binding: Binding) -> np.ndarray:
    """The float32 latents [N, L] of a file's codes; CodeFileError if another model made them."""
    if (code_file.model, code_file.model_id) != (binding.model, binding.model_id):
        raise CodeFileError(
            f"this code was made by model {code_file.model} {code_file.model_id}, "
            f"but the loaded model is {binding.model} {binding.model_id}; pass --models with the folder that made it"
        )
    return dequantize(code_file.codes, code_file.precision, binding)


def check_precision(precision: str) -> None:
    """A precision a user asked for: DataError (an argument, not a file, is wrong) unless we store it."""
    if precision not in PRECISIONS:
        raise DataError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")


def quantize(z: np.ndarray, precision: str, binding: Binding) -> np.ndarray:
    """Float latents -> the stored dtype; uint8 is relative to the model's per-dimension range."""
    check_precision(precision)
    if precision == "uint8":
        scale = _uint8_scale(binding.z_min, binding.z_max)
        return np.clip(np.rint((z - binding.z_min) / scale), 0, 255).astype(np.uint8)
    return z.astype(_DTYPES[precision])


def dequantize(codes: np.ndarray, precision: str, binding: Binding) -> np.ndarray:
    """Stored codes -> float32 latents: what the decoder is fed."""
    if precision == "uint8":
        return (binding.z_min + codes.astype(np.float32) * _uint8_scale(binding.z_min, binding.z_max)).astype(np.float32)
    return codes.astype(np.float32)


def _uint8_scale(z_min: np.ndarray, z_max: np.ndarray) -> np.ndarray:
    span = (np.asarray(z_max, np.float32) - np.asarray(z_min, np.float32)) / np.float32(255)
    return np.where(span > 0, span, np.float32(1)).astype(np.float32)


def to_bytes(code_file: CodeFile) -> bytes:
    cf = code_file
    if cf.precision not in PRECISIONS:
        raise CodeFileError(f"unknown precision {cf.precision!r}; choose one of: {', '.join(PRECISIONS)}")
    model = cf.model.encode("ascii")
    if not 1 <= len(model) <= MAX_MODEL_NAME or not _is_model_id(cf.model_id):
        raise CodeFileError(f"bad model name {cf.model!r} or id {cf.model_id!r}")
    count, latent_size = cf.codes.shape
    if count != len(cf.names) or not 1 <= latent_size <= MAX_LATENT_SIZE:
        raise CodeFileError(f"{count} codes of size {latent_size} do not fit {len(cf.names)} names")
    flags = FLAG_ORIGINAL_SIZES if cf.original_sizes is not None else 0
    body = bytearray(MAGIC)
    body += struct.pack("<BBBB", FORMAT_VERSION, PRECISIONS.index(cf.precision), flags, len(model)) + model
    body += cf.model_id.encode("ascii") + struct.pack("<HI", latent_size, count)
    for name in cf.names:  # appended in place: no list of 2N small objects for a large batch
        encoded = name.encode("utf-8")
        if len(encoded) > 0xFFFF:
            raise CodeFileError(f"name too long ({len(encoded)} bytes): {name[:40]!r}...")
        body += len(encoded).to_bytes(2, "little")
        body += encoded
    if cf.original_sizes is not None:
        body += np.asarray(cf.original_sizes, dtype="<u4").reshape(count, 2).tobytes()
    body += np.ascontiguousarray(cf.codes, dtype=_DTYPES[cf.precision]).tobytes()
    body += _CRC.pack(zlib.crc32(body))
    return bytes(body)


class _Reader:
    """Bounds-checked reads: every size is checked against what is left before it is used."""

    def __init__(self, data: bytes, offset: int, end: int):
        self.data, self.offset, self.end = data, offset, end

    def take(self, size: int, what: str) -> bytes:
        if size > self.end - self.offset:
            raise CodeFileError(f"truncated code file: {what} runs past the end")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, fmt: str, what: str):
        layout = struct.Struct(fmt)
        return layout.unpack(self.take(layout.size, what))


def from_bytes(data: bytes) -> CodeFile:
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise CodeFileError("not an aeonnx code file (wrong magic bytes)")
    if len(data) < len(MAGIC) + 1:
        raise CodeFileError("truncated code file: no format version")
    version = data[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise CodeFileError(f"unsupported code file format version {version} (this aeonnx reads version {FORMAT_VERSION})")
    if len(data) < len(MAGIC) + 4 + _CRC.size:
        raise CodeFileError("truncated code file: shorter than its header")
    (stored_crc,) = _CRC.unpack(data[-_CRC.size :])
    reader = _Reader(data, len(MAGIC) + 1, len(data) - _CRC.size)
    precision_code, flags, name_length = reader.unpack("<BBB", "header")
    if precision_code >= len(PRECISIONS):
        raise CodeFileError(f"unknown precision code {precision_code}")
    if flags & ~FLAG_ORIGINAL_SIZES:
        raise CodeFileError(f"unknown flags 0x{flags:02x}")
    if not 1 <= name_length <= MAX_MODEL_NAME:
        raise CodeFileError(f"bad model name length {name_length}")
    model = _text(reader.take(name_length, "model name"), "model name", "ascii")
    model_id = _text(reader.take(MODEL_ID_LENGTH, "model id"), "model id", "ascii")
    if not _is_model_id(model_id):
        raise CodeFileError("corrupt code file: the model id is not 16 lowercase hex digits")
    latent_size, count = reader.unpack("<HI", "header")
    precision = PRECISIONS[precision_code]
    itemsize = _DTYPES[precision].itemsize
    if not 1 <= latent_size <= MAX_LATENT_SIZE:
        raise CodeFileError(f"bad latent size {latent_size}")
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
    codes = np.frombuffer(payload, dtype=_DTYPES[precision]).reshape(count, latent_size)
    return CodeFile(model, model_id, precision, codes, names, sizes)


def _is_model_id(text: str) -> bool:
    return len(text) == MODEL_ID_LENGTH and all(c in "0123456789abcdef" for c in text)


def _text(raw: bytes, what: str, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise CodeFileError(f"corrupt code file: {what} is not valid {encoding}") from None
