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
import zlib

import numpy as np

from ..errors import ModelError
from . import entropy, nametable, short_frame, varint
from . import sizes as original_sizes
from .layout import (  # the format's names, codefile's as before layout.py
    _CRC,
    _KINDS,
    _MIN_V2_BYTES,
    FLAG_IMAGE_SHAPE,
    FLAG_NAMES,
    FLAG_ORIGINAL_SIZES,
    FLAG_SHORT,
    FLAGS,
    FORMAT_VERSION,
    MAGIC,
    MAX_CODES,
    MAX_IMAGE_DIMS,
    MAX_IMAGE_SIDE,
    MAX_LATENT_SIZE,
    MAX_MODEL_NAME,
    MAX_SIDE,
    MNIST_SIZE,
    MODEL_ID_LENGTH,
    READ_VERSIONS,
    SHORT_ID_BYTES,
    Coded,
    CodeFile,
    CodeFileError,
    _checked_count,
    _is_model_id,
    _kind,
    _shape_words,
    _text,
    default_names,
)
from .layout import NAMED_PRECISIONS as NAMED_PRECISIONS
from .layout import PRECISIONS as PRECISIONS
from .layout import QUALITY_KIND as QUALITY_KIND
from .layout import V1_PRECISIONS as V1_PRECISIONS
from .precision import _DTYPES, CODED, FLOATS
from .precision import BITS as BITS
from .precision import QUALITIES as QUALITIES
from .precision import Binding as Binding  # the names below are this module's too, as before precision.py
from .precision import check_precision as check_precision
from .precision import dequantize as dequantize
from .precision import quantize as quantize
from .precision import resolve_precision as resolve_precision
from .short_frame import complete as complete


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
    if code_file.short:
        code_file = complete(code_file, binding.model, binding.model_id, len(binding.z_min), binding.image_shape)
    if (code_file.model, code_file.model_id) != (binding.model, binding.model_id):
        made_by = (
            f"a model whose id begins {code_file.model_id}"
            if code_file.short
            else f"model {code_file.model} {code_file.model_id}"
        )
        raise CodeFileError(
            f"this code was made by {made_by}, "
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
    """A CodeFile (float codes, or entropy-coded ones as read) -> the bytes of a version 2 file, in the frame it
    was read in (a short frame stays one; a full one stays full)."""
    cf = code_file
    if cf.short:  # as read, its model not known: the same short frame again
        return short_frame.frame(cf.precision, cf.model_id, cf.coded.body)
    if cf.precision not in _KINDS or (cf.precision in CODED and cf.coded is None):
        raise CodeFileError(f"cannot write {cf.precision!r} codes as they are; quantise them with pack()")
    count = len(cf.coded.lengths) if cf.coded is not None else len(cf.codes)
    if count != len(cf.names):
        raise CodeFileError(f"{count} codes do not fit {len(cf.names)} names")
    _refuse_duplicates(cf.names)
    sink = io.BytesIO()
    named = cf.names != default_names(count)
    writer = Writer(sink, cf.model, cf.model_id, cf.precision, cf.latent_size, None, named, cf.image_shape, short=False)
    if cf.coded is not None:
        writer.add_coded(cf.coded.body, cf.coded.lengths, cf.names, cf.original_sizes)
    else:
        writer.add(cf.codes, cf.names, cf.original_sizes)
    writer.finish()
    return sink.getvalue()


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
        short: bool = True,  # one unnamed entropy-coded code in the short frame (False: as a file read was)
    ):
        self.sink, self.precision, self.latent_size, self.table = sink, precision, latent_size, table
        self.names = nametable.Writer() if named else None
        self.count = self.body_bytes = 0
        self._lengths, self._last_length = bytearray(), None  # all lengths but the last, as varints
        self._sizes, self._odd_sizes = bytearray(), False
        self._usual_size = original_sizes.usual_size(image_shape)  # sizes are stored only if one differs from it
        self._start, self._crc, self.finished = sink.tell(), 0, False
        self._flags = (FLAG_NAMES if named else 0) | (FLAG_IMAGE_SHAPE if image_shape else 0)
        self.model_id, self._short, self._short_allowed = model_id, False, short
        header = _header(model, model_id, precision, latent_size, self._flags, image_shape)
        self._header_bytes = len(header)
        self._write(header)

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
        """Per code a varint width, 0 for 28x28, else width then height; the table is written (finish) only
        if some size differs from the model's own (28x28 for the shipped models)."""
        if sizes is None or (isinstance(sizes, list) and sizes.count(MNIST_SIZE) == count == len(sizes)):
            self._sizes += bytes(count)
            self._odd_sizes |= count > 0 and self._usual_size != MNIST_SIZE and sizes is not None
            return
        array = np.asarray(sizes, np.int64).reshape(-1, 2)
        if len(array) != count:
            raise CodeFileError(f"{count} codes need {count} original sizes")
        if array.min(initial=1) < 1 or array.max(initial=1) > MAX_SIDE:
            raise CodeFileError(f"original sizes must be 1 to {MAX_SIDE} pixels")
        self._odd_sizes |= bool(np.any(array != self._usual_size))
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
        if self._short:
            raise CodeFileError("a file finished in the short frame cannot be rolled back")
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
        """Write the index and the CRC (or the short frame, where it holds the file); the file's size. The
        state is kept (see rollback)."""
        if self._fits_short_frame():
            return self._finish_short()
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

    def _fits_short_frame(self) -> bool:
        """One entropy-coded code, no name, no size (an image shape is the model's): what the short frame holds."""
        one = self.count == 1 and self.precision in CODED and not self._flags & FLAG_NAMES and not self._odd_sizes
        return one and self._short_allowed

    def _finish_short(self) -> int:
        """The file again as a short frame: the code read back (one code: a few dozen bytes)."""
        self.sink.seek(self._start + self._header_bytes)
        body = self.sink.read(self.body_bytes)
        if len(body) != self.body_bytes:
            raise CodeFileError("the code file being written was cut short")
        self.sink.seek(self._start)
        self.sink.truncate()
        self.sink.write(short_frame.frame(self.precision, self.model_id[: 2 * SHORT_ID_BYTES], body))
        self.finished = self._short = True
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
        if version == 1:
            from .version1 import read_version1

            return read_version1(data, max_codes)
        return _from_bytes_v2(data, max_codes, lazy)
    except varint.CorruptError as e:
        raise CodeFileError(f"corrupt code file: {e}") from None


def _from_bytes_v2(data, max_codes: int = MAX_CODES, lazy: bool = False) -> CodeFile:
    if len(data) > len(MAGIC) + 2 and data[len(MAGIC) + 2] == FLAG_SHORT:
        return short_frame.read(data)
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


def _names(view, index: varint.Reader, count: int, lazy: bool, max_codes: int):
    budget = nametable.NAME_BYTES_PER_CODE * max_codes
    if not lazy:
        return tuple(nametable.read(index, count, budget))
    start = index.offset
    nametable.walk(index, count, budget)
    return nametable.LazyNames(view, start, index.offset, count, budget)
