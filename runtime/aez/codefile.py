"""The `.aez` code file (docs/FORMAT.md): latents <-> file bytes, and nothing else.

Owns the whole path between a model's latent vectors and a file: quantise, entropy-code, frame, write;
read, check which model made the codes, decode, dequantise. Refuses anything else with one clear line.
The model (model.py) owns running ONNX; it hands over latents and its `Binding`, and gets latents back.

The writer makes format version 2, streaming: the header first, each code as it is made, the index
(count, code lengths, names, original sizes) last, found by the reader from the file's end. Version 1
files (fixed-size codes, an index in front) are still read.
"""

from __future__ import annotations

import collections
import io
import struct
import zlib
from dataclasses import dataclass, replace

import numpy as np

from .. import spec
from ..errors import AeonnxError, ModelError
from . import entropy, nametable, varint
from . import sizes as original_sizes
from .precision import _DTYPES, BITS, CODED, FLOATS, QUALITIES
from .precision import Binding as Binding  # the names below are this module's too, as before precision.py
from .precision import check_precision as check_precision
from .precision import dequantize as dequantize
from .precision import quantize as quantize
from .precision import resolve_precision as resolve_precision

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


# --- latents <-> files ----------------------------------------------------------------------------
def pack(z: np.ndarray, precision, binding: Binding, names=None, original_sizes=None) -> bytes:
    """Latents float32 [N, L] -> the bytes of one .aez file at `precision`. Without names the file
    stores none (its codes are named 00000, 00001, ...)."""
    return pack_codes(quantize(z, precision, binding), precision, binding, names, original_sizes)


def pack_codes(codes: np.ndarray, precision, binding: Binding, names=None, original_sizes=None) -> bytes:
    """Codes already quantised (`quantize`) -> the bytes of one .aez file."""
    _refuse_duplicates(names)
    sink = io.BytesIO()
    writer = Writer.of(sink, check_precision(precision), binding, named=names is not None)
    writer.add(codes, names, original_sizes)
    writer.finish()
    return sink.getvalue()


def _refuse_duplicates(names) -> None:
    """A reader refuses a file whose names repeat, so no writer makes one. (The streaming Writer is fed
    names that inputs.plan made unique; a set of a million names would defeat its bounded memory.)"""
    if names is not None and len(set(names)) != len(names):
        repeated = next(name for name, count in collections.Counter(names).items() if count > 1)
        raise CodeFileError(f"names must be unique: {repeated!r} is given more than once")


def latents(code_file: CodeFile, binding: Binding) -> np.ndarray:
    """The float32 latents [N, L] of a file's codes; CodeFileError if another model made them."""
    return dequantize(stored_values(code_file, binding), code_file.precision, binding)


def stored_values(code_file: CodeFile, binding: Binding) -> np.ndarray:
    """The codes as stored before entropy coding ([N, L] floats, or B-bit symbols), decoded with the
    model's priors; CodeFileError if another model made them or they are corrupt."""
    if (code_file.model, code_file.model_id) != (binding.model, binding.model_id):
        raise CodeFileError(
            f"this code was made by model {code_file.model} {code_file.model_id}, "
            f"but the loaded model is {binding.model} {binding.model_id}; pass --models with the folder that made it"
        )
    if code_file.latent_size != len(binding.z_min):
        raise CodeFileError(
            f"codes of size {code_file.latent_size} do not fit the model's latent size {len(binding.z_min)}"
        )
    if code_file.image_shape != binding.image_shape:
        shapes = _shape_words(code_file.image_shape), _shape_words(binding.image_shape)
        raise CodeFileError("the codes are of {}; the model takes {}".format(*shapes))
    if code_file.codes is not None:
        return code_file.codes
    coded = code_file.coded
    try:
        return entropy.decode(coded.body, coded.lengths, binding.table(code_file.precision))
    except entropy.EntropyCodeError as e:
        raise CodeFileError(f"corrupt code file: {e}") from None
    except ModelError as e:
        raise CodeFileError(str(e)) from None


def to_bytes(code_file: CodeFile) -> bytes:
    """A CodeFile (float codes, or entropy-coded ones as read) -> the bytes of a version 2 file."""
    cf = code_file
    if cf.precision not in _KINDS or (cf.precision in CODED and cf.coded is None):
        raise CodeFileError(f"cannot write {cf.precision!r} codes as they are; quantise them with pack()")
    count = len(cf.coded.lengths) if cf.coded is not None else len(cf.codes)
    if count != len(cf.names):
        raise CodeFileError(f"{count} codes do not fit {len(cf.names)} names")
    _refuse_duplicates(cf.names)
    sink = io.BytesIO()
    named = cf.names != default_names(count)
    writer = Writer(sink, cf.model, cf.model_id, cf.precision, cf.latent_size, None, named, cf.image_shape)
    if cf.coded is not None:
        writer.add_coded(cf.coded.body, cf.coded.lengths, cf.names, cf.original_sizes)
    else:
        writer.add(cf.codes, cf.names, cf.original_sizes)
    writer.finish()
    return sink.getvalue()


def default_names(count: int) -> tuple[str, ...]:
    """The names of the codes of a file that stores none: 00000, 00001, ..."""
    return tuple(f"{i:05d}" for i in range(count))


# --- the streaming writer (version 2) -------------------------------------------------------------
class Writer:
    """Writes one version 2 file to `sink` (a seekable binary file) as codes come: the header now, each
    batch of codes at once, the index and CRC at `finish`. Memory holds only the index (about a byte
    per code for its length, the names table's bytes, the original sizes), never the codes.

    `mark` and `rollback` undo the codes added since a mark (an array file that failed midway)."""

    def __init__(
        self,
        sink,
        model: str,
        model_id: str,
        precision,
        latent_size: int,
        table: entropy.FrequencyTable | None,
        named: bool,
        image_shape: tuple[int, ...] | None = None,
    ):
        self.sink, self.precision, self.latent_size, self.table = sink, precision, latent_size, table
        self.names = nametable.Writer() if named else None
        self.count = self.body_bytes = 0
        self._lengths, self._last_length = bytearray(), None  # all lengths but the last, as varints
        self._sizes, self._odd_sizes = bytearray(), False
        self._start, self._crc, self.finished = sink.tell(), 0, False
        self._flags = (FLAG_NAMES if named else 0) | (FLAG_IMAGE_SHAPE if image_shape else 0)
        self._write(_header(model, model_id, precision, latent_size, self._flags, image_shape))

    @classmethod
    def of(cls, sink, precision, binding: Binding, named: bool) -> Writer:
        table = binding.table(precision) if precision in CODED else None
        latent_size = len(binding.z_min)
        return cls(sink, binding.model, binding.model_id, precision, latent_size, table, named, binding.image_shape)

    def _write(self, data) -> None:
        self.sink.write(data)
        self._crc = zlib.crc32(data, self._crc)

    def add(self, codes: np.ndarray, names=None, sizes=None) -> None:
        """Codes as `quantize` makes them [n, L], their names (if the file stores names) and original
        sizes (None: all 28x28)."""
        if codes.ndim != 2 or codes.shape[1] != self.latent_size:
            raise CodeFileError(f"codes of shape {codes.shape} do not fit latent size {self.latent_size}")
        if self.precision in FLOATS:
            body = np.ascontiguousarray(codes, dtype=_DTYPES[self.precision]).tobytes()
            return self._add_body(body, None, len(codes), names, sizes)
        try:
            body, lengths = entropy.encode(codes, self.table)
        except entropy.EntropyCodeError as e:
            raise CodeFileError(str(e)) from None
        self._add_body(body, lengths, len(codes), names, sizes)

    def add_coded(self, body, lengths: np.ndarray, names=None, sizes=None) -> None:
        """Codes entropy-coded already (as read from a file)."""
        self._add_body(body, np.asarray(lengths, np.int64), len(lengths), names, sizes)

    def _add_body(self, body, lengths, count: int, names, sizes) -> None:
        if self.finished:
            raise CodeFileError("this code file is finished")
        if self.names is not None:
            self._add_names(names, count)
        self._add_sizes(sizes, count)
        if lengths is not None and count:
            earlier = lengths[:-1] if self._last_length is None else np.concatenate([[self._last_length], lengths[:-1]])
            self._lengths += varint.encode_array(earlier)
            self._last_length = int(lengths[-1])
        self._write(body)
        self.count += count
        self.body_bytes += len(body)

    def _add_names(self, names, count: int) -> None:
        if names is None or len(names) != count:
            raise CodeFileError(f"{count} codes need {count} names")
        try:
            self.names.add_all(names)
        except (ValueError, UnicodeEncodeError) as e:
            raise CodeFileError(f"cannot store a name: {e}") from None

    def _add_sizes(self, sizes, count: int) -> None:
        """Per code a varint width, 0 for 28x28, else width then height."""
        if sizes is None or (isinstance(sizes, list) and sizes.count(MNIST_SIZE) == count == len(sizes)):
            self._sizes += bytes(count)
            return
        array = np.asarray(sizes, np.int64).reshape(-1, 2)
        if len(array) != count:
            raise CodeFileError(f"{count} codes need {count} original sizes")
        if np.all(array == MNIST_SIZE):
            self._sizes += bytes(count)
            return
        if array.min() < 1 or array.max() > MAX_SIDE:
            raise CodeFileError(f"original sizes must be 1 to {MAX_SIDE} pixels")
        self._odd_sizes = True
        for width, height in array.tolist():
            self._sizes += b"\x00" if (width, height) == MNIST_SIZE else varint.encode(width) + varint.encode(height)

    def mark(self) -> tuple:
        names = self.names.mark() if self.names is not None else None
        return (
            self.sink.tell(),
            self._crc,
            self.count,
            self.body_bytes,
            len(self._lengths),
            self._last_length,
            names,
            len(self._sizes),
            self._odd_sizes,
        )

    def rollback(self, mark: tuple) -> None:
        """Back to `mark`, as if nothing had been added since (a finished file is open again)."""
        position, self._crc, self.count, self.body_bytes, lengths, self._last_length, names, sizes, odd = mark
        self._odd_sizes = odd
        del self._lengths[lengths:], self._sizes[sizes:]
        if names is not None:
            self.names.rollback(names)
        self.sink.seek(self._start + 6)
        self.sink.write(bytes([self._flags]))  # finish may have set the sizes flag
        self.sink.seek(position)
        self.sink.truncate()
        self.finished = False

    def finish(self) -> int:
        """Write the index and the CRC; the file's size. The state is kept (see rollback)."""
        index = bytearray(varint.encode(self.count))
        if self.precision in CODED:
            index += self._lengths  # the last code's length is what is left of the body
        if self.names is not None:
            index += self.names.finish()
        if self._odd_sizes:
            index += self._sizes
        self._write(bytes(index) + varint.encode_backwards(len(index)))
        crc = self._crc
        if self._odd_sizes:  # the header said no sizes: set its flag, and checksum the file again
            self.sink.seek(self._start + 6)
            self.sink.write(bytes([self._flags | FLAG_ORIGINAL_SIZES]))
            crc = _crc_of(self.sink, self._start, self.sink.seek(0, io.SEEK_END))
        self.sink.write(_CRC.pack(crc))
        self.finished = True
        return self.sink.tell() - self._start


def _crc_of(handle, start: int, end: int, block: int = 1 << 20) -> int:
    """The CRC32 of bytes start..end of a file, read back a block at a time (memory: one block)."""
    handle.seek(start)
    crc, left = 0, end - start
    while left:
        data = handle.read(min(block, left))
        if not data:
            raise CodeFileError("the code file being written was cut short")
        crc, left = zlib.crc32(data, crc), left - len(data)
    return crc


def _header(model: str, model_id: str, precision, latent_size: int, flags: int, image_shape=None) -> bytes:
    try:
        name = model.encode("ascii")
    except UnicodeEncodeError:
        name = b""
    if not 1 <= len(name) <= MAX_MODEL_NAME or not _is_model_id(model_id):
        raise CodeFileError(f"bad model name {model!r} or id {model_id!r}")
    if precision not in _KINDS:
        raise CodeFileError(f"unknown precision {precision!r}; choose one of: {', '.join(map(str, _KINDS))}")
    if not 1 <= latent_size <= MAX_LATENT_SIZE:
        raise CodeFileError(f"bad latent size {latent_size}")
    return (
        MAGIC
        + bytes([FORMAT_VERSION, _KINDS[precision], flags, len(name)])
        + name
        + bytes.fromhex(model_id)
        + varint.encode(latent_size)
        + (_image_shape_bytes(image_shape) if image_shape else b"")
    )


def _image_shape_bytes(shape) -> bytes:
    """A model of your own's image shape as the header ends with it: its number of dimensions, then each."""
    shape = tuple(int(n) for n in shape)
    if not 1 <= len(shape) <= MAX_IMAGE_DIMS or not all(1 <= n <= MAX_IMAGE_SIDE for n in shape):
        raise CodeFileError(f"bad image shape {shape}")
    return varint.encode(len(shape)) + b"".join(varint.encode(n) for n in shape)


def _read_image_shape(header: varint.Reader) -> tuple[int, ...]:
    dims = header.varint("image shape")
    if not 1 <= dims <= MAX_IMAGE_DIMS:
        raise CodeFileError(f"bad image shape: {dims} dimensions")
    shape = tuple(header.varint("image shape") for _ in range(dims))
    if not all(1 <= n <= MAX_IMAGE_SIDE for n in shape):
        raise CodeFileError(f"bad image shape {shape}")
    return shape


# --- readers --------------------------------------------------------------------------------------
MAX_CODES = spec.MAX_CODES_PER_FILE  # unless the reader allows more: checked before anything is built


def from_bytes(data, max_codes: int = MAX_CODES, lazy: bool = False) -> CodeFile:
    """The code file in `data`, of format version 1 or 2; CodeFileError in one line for anything else, and
    for a file of more than `max_codes` codes. `lazy`: its names read when asked for (nametable.LazyNames)
    and its original sizes kept compact, so that what is built follows the file's bytes (info, --name)."""
    if len(data) < len(MAGIC) or bytes(data[: len(MAGIC)]) != MAGIC:
        raise CodeFileError("not an aeonnx code file (wrong magic bytes)")
    if len(data) < len(MAGIC) + 1:
        raise CodeFileError("truncated code file: no format version")
    version = data[len(MAGIC)]
    if version not in READ_VERSIONS:
        raise CodeFileError(
            f"unsupported code file format version {version} "
            f"(this aeonnx reads versions {', '.join(map(str, READ_VERSIONS))})"
        )
    try:
        return _from_bytes_v1(data, max_codes) if version == 1 else _from_bytes_v2(data, max_codes, lazy)
    except varint.CorruptError as e:
        raise CodeFileError(f"corrupt code file: {e}") from None


def _from_bytes_v2(data, max_codes: int = MAX_CODES, lazy: bool = False) -> CodeFile:
    if len(data) < _MIN_V2_BYTES:
        raise CodeFileError("truncated code file: shorter than its header")
    # The index is found from the end, so a cut file is told by its checksum: check that first.
    (stored_crc,) = _CRC.unpack(data[-_CRC.size :])
    if zlib.crc32(data[: -_CRC.size]) != stored_crc:
        raise CodeFileError("corrupt code file: CRC32 mismatch (a damaged or truncated code file)")
    view = memoryview(data)
    header = varint.Reader(view, len(MAGIC) + 1, len(data) - _CRC.size)
    precision, flags = _kind(header.byte("header")), header.byte("header")
    if flags & ~FLAGS:
        raise CodeFileError(f"unknown flags 0x{flags:02x}")
    model = _model_name(header)
    model_id = bytes(header.take(MODEL_ID_LENGTH // 2, "model id")).hex()
    latent_size = header.varint("latent size")
    if not 1 <= latent_size <= MAX_LATENT_SIZE:
        raise CodeFileError(f"bad latent size {latent_size}")
    image_shape = _read_image_shape(header) if flags & FLAG_IMAGE_SHAPE else None
    index_length, index_end = varint.read_backwards(view, header.end, header.offset, "index length")
    if index_length > index_end - header.offset:
        raise CodeFileError("corrupt code file: the index length runs into the header")
    body = view[header.offset : index_end - index_length]
    index = varint.Reader(view, index_end - index_length, index_end)
    count = _checked_count(index.varint("code count"), max_codes)
    codes, coded = _codes(body, index, count, precision, latent_size)
    names = _names(view, index, count, lazy, max_codes) if flags & FLAG_NAMES else default_names(count)
    sizes = original_sizes.read(index, count) if flags & FLAG_ORIGINAL_SIZES else None
    if index.left:
        raise CodeFileError(f"corrupt code file: {index.left} unexpected bytes at the end of the index")
    named = bool(flags & FLAG_NAMES)
    return CodeFile(model, model_id, precision, codes, names, sizes, coded, 2, named, image_shape)


def _kind(kind: int) -> str | int:
    for precision, code in _KINDS.items():
        if code == kind:
            return precision
    raise CodeFileError(f"unknown precision code {kind}")


def _model_name(reader: varint.Reader) -> str:
    length = reader.byte("header")
    if not 1 <= length <= MAX_MODEL_NAME:
        raise CodeFileError(f"bad model name length {length}")
    name = _text(bytes(reader.take(length, "model name")), "model name", "ascii")
    if not name.isprintable() or " " in name:  # it is printed in messages: one line, no control characters
        raise CodeFileError("corrupt code file: the model name is not printable")
    return name


def _codes(body: memoryview, index: varint.Reader, count: int, precision, latent_size: int):
    """(float codes [N, L], None) or (None, Coded): the body checked against the count before use."""
    if precision in FLOATS:
        itemsize = _DTYPES[precision].itemsize
        if count * latent_size * itemsize != len(body):
            raise CodeFileError(
                f"corrupt code file: {count} codes of {latent_size} {precision} values do not "
                f"fill its {len(body)} bytes of codes"
            )
        return np.frombuffer(body, _DTYPES[precision]).reshape(count, latent_size), None
    longest = entropy.max_code_bytes(latent_size)
    if count == 0:
        if len(body):
            raise CodeFileError(f"corrupt code file: no codes, but {len(body)} bytes of them")
        return None, Coded(body, np.zeros(0, np.int64), latent_size)
    # An entropy-coded code may be 0 bytes long: the count is bounded by the index (a length each), not the body.
    lengths = index.varints(count - 1, "code lengths", longest)
    last = len(body) - int(lengths.sum())
    if not 0 <= last <= longest:
        raise CodeFileError(f"corrupt code file: code lengths do not fit its {len(body)} bytes of codes")
    return None, Coded(body, np.append(lengths, last), latent_size)


def _checked_count(count: int, max_codes: int) -> int:
    if count > max_codes:
        raise CodeFileError(f"{count:,} codes, over the limit of {max_codes:,} a file (raise it with --max-codes)")
    return count


def _names(view, index: varint.Reader, count: int, lazy: bool, max_codes: int):
    budget = nametable.NAME_BYTES_PER_CODE * max_codes
    if not lazy:
        return tuple(nametable.read(index, count, budget))
    start = index.offset
    nametable.walk(index, count, budget)
    return nametable.LazyNames(view, start, index.offset, count, budget)


def _from_bytes_v1(data, max_codes: int = MAX_CODES) -> CodeFile:
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


def _is_model_id(text: str) -> bool:
    return len(text) == MODEL_ID_LENGTH and all(c in "0123456789abcdef" for c in text)


def _text(raw: bytes, what: str, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise CodeFileError(f"corrupt code file: {what} is not valid {encoding}") from None
