"""What every reader and writer of the `.aez` format shares (docs/FORMAT.md): its constants, the CodeFile a
file reads into, and the checks of single fields. codefile.py (version 2, the short frame) and version1.py
read and write with these; they are codefile's names too."""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

import numpy as np

from .. import spec
from ..errors import AeonnxError
from . import sizes as original_sizes
from .precision import BITS, FLOATS, QUALITIES

MAGIC = b"AEZ\x1a"
FORMAT_VERSION = 2  # what the writer makes
READ_VERSIONS = (1, 2)
PRECISIONS = (*FLOATS, *BITS)  # what the writer makes for any model: uncoded floats, or entropy-coded at B bits
# and for a rate-distortion model, its quality levels too (QUALITIES, entropy-coded with its own tables)
NAMED_PRECISIONS = spec.NAMED_PRECISIONS  # what a user may ask for by name; any B in BITS with --bits
V1_PRECISIONS = ("float32", "float16", "uint8")
QUALITY_KIND = 16  # kind 16 + q: quality level q of a rate-distortion model
_KINDS = {  # the kind byte of version 2
    "float32": 0,
    "float16": 1,
    **{bits: bits for bits in BITS},
    **{quality: QUALITY_KIND + number for number, quality in enumerate(QUALITIES, start=1)},
}
FLAG_ORIGINAL_SIZES = 0x01
FLAG_NAMES = 0x02
FLAG_IMAGE_SHAPE = 0x04  # the header ends with the image shape of a model of your own (FORMAT.md)
FLAGS = FLAG_ORIGINAL_SIZES | FLAG_NAMES | FLAG_IMAGE_SHAPE
# The short frame (FORMAT.md "Short frame"): one entropy-coded code with no name and no original size, what
# `compress img.png` writes. After the flags byte FLAG_SHORT (alone) come the model id's first SHORT_ID_BYTES
# bytes, the code, the CRC32: 15 bytes of frame, not 25 or more; the rest is the model's (`complete`).
FLAG_SHORT = 0x08
SHORT_ID_BYTES = 4
_SHORT_HEADER_BYTES = len(MAGIC) + 1 + 1 + 1 + SHORT_ID_BYTES  # magic, version, kind, flags, id prefix
MAX_IMAGE_DIMS = 3  # (values,), or (height, width, channels)
MAX_IMAGE_SIDE = 65535
MAX_LATENT_SIZE = 4096
MAX_MODEL_NAME = 32
MODEL_ID_LENGTH = 16  # hex digits; stored as 8 raw bytes in version 2
MAX_SIDE, MNIST_SIZE = original_sizes.MAX_SIDE, original_sizes.MNIST_SIZE
_CRC = struct.Struct("<I")
_MIN_V2_BYTES = 4 + 1 + 1 + 1 + 1 + 1 + 8 + 1 + 1 + 1 + 4  # magic .. L, N, index length, CRC


def _shape_words(shape: tuple[int, ...] | None) -> str:
    """An input shape as a message says it: the shipped models' digits where a file or model records none."""
    return "28x28 digits (the shipped models')" if shape is None else f"inputs of {tuple(shape)}"


class CodeFileError(AeonnxError):
    """A code file that is not a valid .aez file of a version we read."""


@dataclass(frozen=True, eq=False)
class Coded:
    """Entropy-coded codes: their bytes back to back, and each one's length."""

    body: bytes | memoryview
    lengths: np.ndarray  # int64 [N]
    latent_size: int

    @property
    def starts(self) -> np.ndarray:
        return np.cumsum(self.lengths) - self.lengths


@dataclass(frozen=True)
class CodeFile:
    model: str
    model_id: str
    precision: str | int  # "float32", "float16", "uint8" (version 1), or bits 4-8 (entropy-coded)
    codes: np.ndarray | None  # [N, L] in the precision's dtype; None where entropy-coded (see `coded`)
    names: tuple[str, ...]
    original_sizes: tuple[tuple[int, int], ...] | None = None  # (width, height) per code
    coded: Coded | None = None
    version: int = FORMAT_VERSION
    named: bool = True  # False: the file stores no names (its codes are 00000, 00001, ...)
    image_shape: tuple[int, ...] | None = None  # a model of your own's input shape; None: the shipped models'

    @property
    def short(self) -> bool:
        """A short-frame file as read: its model known only by its id's first bytes (`model_id`, 8 hex
        digits) until `complete` names it; its latent size and image shape are then the model's."""
        return len(self.model_id) == 2 * SHORT_ID_BYTES

    @property
    def latent_size(self) -> int:
        return self.codes.shape[1] if self.codes is not None else self.coded.latent_size

    @property
    def body_bytes(self) -> int:
        """The bytes of the codes themselves; the rest of the file is its frame."""
        return self.codes.nbytes if self.codes is not None else len(self.coded.body)

    @property
    def bits(self) -> int | None:
        """Bits per latent value as stored (before entropy coding); None for a quality level (its tables say)."""
        if self.precision in QUALITIES:
            return None
        return {"float32": 32, "float16": 16, "uint8": 8}.get(self.precision, self.precision)

    def __len__(self) -> int:
        return len(self.names)

    def take(self, indices) -> CodeFile:
        """The codes at `indices` alone (random access: nothing else is decoded)."""
        indices = [int(i) for i in indices]
        sizes = tuple(self.original_sizes[i] for i in indices) if self.original_sizes is not None else None
        names = self.names.at(indices) if hasattr(self.names, "at") else tuple(self.names[i] for i in indices)
        if self.codes is not None:
            return replace(self, codes=self.codes[indices], names=names, original_sizes=sizes)
        starts, lengths, body = self.coded.starts, self.coded.lengths, memoryview(self.coded.body)
        picked = b"".join(body[starts[i] : starts[i] + lengths[i]] for i in indices)
        coded = Coded(picked, lengths[indices].astype(np.int64), self.coded.latent_size)
        return replace(self, coded=coded, names=names, original_sizes=sizes)

    def find(self, names) -> list[int]:
        """The index of each name; AeonnxError naming the first that is not there."""
        where = {name: index for index, name in enumerate(self.names)}
        missing = [name for name in names if name not in where]
        if missing:
            raise AeonnxError(f"no code named {missing[0]!r} here ({len(self)} codes)")
        return [where[name] for name in names]


def default_names(count: int) -> tuple[str, ...]:
    """The names of the codes of a file that stores none: 00000, 00001, ..."""
    return tuple(f"{i:05d}" for i in range(count))


MAX_CODES = spec.MAX_CODES_PER_FILE  # unless the reader allows more: checked before anything is built


def _kind(kind: int) -> str | int:
    for precision, code in _KINDS.items():
        if code == kind:
            return precision
    raise CodeFileError(f"unknown precision code {kind}")


def _checked_count(count: int, max_codes: int) -> int:
    if count > max_codes:
        raise CodeFileError(f"{count:,} codes, over the limit of {max_codes:,} a file (raise it with --max-codes)")
    return count


def _is_model_id(text: str) -> bool:
    return len(text) == MODEL_ID_LENGTH and all(c in "0123456789abcdef" for c in text)


def _text(raw: bytes, what: str, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise CodeFileError(f"corrupt code file: {what} is not valid {encoding}") from None
