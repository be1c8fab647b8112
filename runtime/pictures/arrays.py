"""Read 28x28 uint8 image arrays from Keras-layout .npz files and IDX files, block by block.

Numpy only, so the runtime can read the same files that training reads (training joins the
blocks of the same IDX reader, labels included).
Every failure is a DataError with one line naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec import IMAGE_SIDE

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions.
_IDX_UBYTE = 0x08


def _idx_header(stream, path: Path) -> tuple[int, ...]:
    """Read an IDX header from a binary stream: the shape it declares (unsigned-byte files only)."""
    head = stream.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    if head[2] != _IDX_UBYTE:
        raise DataError(f"{path}: IDX element type 0x{head[2]:02x} is not unsigned byte (0x08)")
    dims = stream.read(4 * head[3])
    if head[3] == 0 or len(dims) != 4 * head[3]:
        raise DataError(f"{path}: truncated IDX header")
    return tuple(int.from_bytes(dims[i : i + 4], "big") for i in range(0, len(dims), 4))


def _open_idx(path: Path):
    """(binary stream, gzipped?) for a raw or gzipped IDX file."""
    import gzip

    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        return (gzip.open(path, "rb") if gzipped else open(path, "rb")), gzipped
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None


DIGIT = (IMAGE_SIDE, IMAGE_SIDE)  # MNIST's layout; a model of your own reads arrays of its own image shape


def picture_size(image: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) of an array's image of shape (H, W[, C]), the original size a code file keeps; a flat
    input of N values is one row of N."""
    return (image[1], image[0]) if len(image) > 1 else (image[0], 1)


def check_images(images: np.ndarray, where: str, image: tuple[int, ...] = DIGIT) -> np.ndarray:
    """Accept only (N, 28, 28) uint8 arrays, the MNIST layout (or (N, *image))."""
    check_image_layout(images.shape, images.dtype, where, image)
    return images


def check_image_layout(
    shape: tuple[int, ...], dtype: np.dtype, where: str, image: tuple[int, ...] = DIGIT, numbers: bool = False
) -> None:
    """check_images from a header's shape and dtype, before any data is read; errors show the real shape.
    `numbers`: arrays of any real numbers (a model of float values), not uint8 pixels."""
    if numbers and not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise DataError(f"{where}: the model takes arrays of numbers, got {dtype}")
    if not numbers and dtype != np.uint8:
        raise DataError(f"{where}: images must be uint8 (0-255), got {dtype}")
    if tuple(shape[1:]) != tuple(image):
        what = "arrays" if numbers else "images"
        raise DataError(f"{where}: {what} must have shape (N, {', '.join(map(str, image))}), got {tuple(shape)}")


def iter_image_blocks(path: Path, block: int, image: tuple[int, ...] = DIGIT, numbers: bool = False):
    """(key, uint8 [n, 28, 28]) blocks (or [n, *image]) of at most `block` images from an .npz, .npy or IDX
    file, read as they are needed: memory follows the block size, not the file. DataError for anything
    else, even midway. `numbers`: float32 blocks of arrays of any real numbers (.npz, .npy), for a model of
    float values."""
    if path.name.lower().endswith(".npz"):
        yield from _npz_blocks(path, block, tuple(image), numbers)
    elif path.name.lower().endswith(".npy"):
        yield from _npy_blocks(path, block, tuple(image), numbers)
    elif numbers:
        raise DataError(f"{path}: a model of float values reads .npy and .npz arrays")
    else:

        def only_images(shape):
            check_image_layout(shape, np.dtype(np.uint8), str(path), image)

        yield from (("", images) for images in iter_idx_blocks(path, block, on_header=only_images))


def _npz_blocks(path: Path, block: int, image: tuple[int, ...], numbers: bool = False):
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    with archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
        found = 0
        for info in members:
            key = info.filename[: -len(".npy")]
            try:
                with archive.open(info) as stream:
                    shape, dtype = _npy_header(stream)
                    if shape[1:] != image:
                        continue  # labels and other arrays ride along in Keras' layout
                    check_image_layout(shape, dtype, f"{path} {key}", image, numbers)
                    found += 1
                    blocks = _read_blocks(stream, shape, block, f"{path} {key}", dtype)
                    yield from ((key, images) for images in blocks)
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # CRC errors surface at the end
                raise DataError(f"{path}: corrupt or truncated array {key!r} ({e})") from None
        if not found:
            what = "array" if numbers else "image array"
            raise DataError(f"{path}: holds no (N, {', '.join(map(str, image))}) {what}")


def _npy_blocks(path: Path, block: int, image: tuple[int, ...], numbers: bool = False):
    """A .npy file read as .npz members are: header checked first, no pickles, `block` digits at a time."""
    try:
        stream = open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    with stream:
        try:
            shape, dtype = _npy_header(stream)
        except (OSError, ValueError, EOFError) as e:
            raise DataError(f"{path}: not a readable .npy file ({e})") from None
        check_image_layout(shape, dtype, str(path), image, numbers)
        yield from (("", images) for images in _read_blocks(stream, shape, block, str(path), dtype))


def _npy_header(stream) -> tuple[tuple[int, ...], np.dtype]:
    from numpy.lib import format as npy

    version = npy.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = npy.read_array_header_1_0(stream)
    else:
        shape, fortran_order, dtype = npy.read_array_header_2_0(stream)
    if fortran_order and len(shape) > 1:
        raise ValueError("Fortran-ordered arrays are not supported")
    if dtype.hasobject:
        raise ValueError("object arrays are not loaded (no pickles)")
    return tuple(shape), dtype


def _read_blocks(stream, shape: tuple[int, ...], block: int, where: str, dtype: np.dtype = np.dtype(np.uint8)):
    """The array of `shape` on `stream`, in blocks of at most `block` entries along its first axis: uint8 as it
    is, other numbers as float32 (what a model of float values takes)."""
    count = shape[0]
    entry_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
    for start in range(0, count, block):
        wanted = min(block, count - start)
        data = stream.read(wanted * entry_bytes)
        if len(data) != wanted * entry_bytes:
            raise DataError(f"{where}: truncated after {start + len(data) // entry_bytes} of {count} {_entries(shape)}")
        values = np.frombuffer(data, dtype=dtype).reshape(wanted, *shape[1:])
        yield values if dtype == np.uint8 else values.astype(np.float32)


def _entries(shape: tuple[int, ...]) -> str:
    return "labels" if len(shape) == 1 else "images"


def iter_idx_blocks(path: Path, block: int, on_header=None):
    """uint8 blocks of at most `block` entries (first axis) of a raw or gzipped IDX file, read as they are
    needed. `on_header(shape)` sees the declared shape before any data is read: to refuse it, or to learn
    it. The one IDX reader: the runtime streams digits with it, training joins its blocks. DataError for
    a bad file, even midway."""
    import gzip

    stream, gzipped = _open_idx(path)
    with stream:
        try:
            shape = _idx_header(stream, path)
            if on_header is not None:
                on_header(shape)
            if not gzipped:  # a raw file's length can be checked before reading any data
                expected = stream.tell() + int(np.prod(shape, dtype=np.int64))
                if path.stat().st_size != expected:
                    raise DataError(
                        f"{path}: IDX header declares shape {shape} ({expected} bytes) "
                        f"but the file has {path.stat().st_size} bytes"
                    )
            yield from _read_blocks(stream, shape, block, str(path))
            if stream.read(1):
                raise DataError(f"{path}: data beyond the {shape[0]} {_entries(shape)} its header declares")
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise DataError(f"{path}: corrupt or truncated {'gzip data' if gzipped else 'file'} ({e})") from None


def image_count(path: Path) -> int:
    """How many digits an .npz or IDX file declares, from its headers alone."""
    import zipfile

    try:
        return _header_count(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: unreadable ({e})") from None


def _header_count(path: Path) -> int:
    import zipfile

    if path.name.lower().endswith(".npy"):
        with open(path, "rb") as stream:
            shape, _ = _npy_header(stream)
        return shape[0] if len(shape) == 3 else 0
    if not path.name.lower().endswith(".npz"):
        stream, _ = _open_idx(path)
        with stream:
            return _idx_header(stream, path)[0]
    with zipfile.ZipFile(path) as archive:
        total = 0
        for info in archive.infolist():
            if info.filename.endswith(".npy"):
                with archive.open(info) as stream:
                    shape, _ = _npy_header(stream)
                if len(shape) == 3 and shape[1:] == (IMAGE_SIDE, IMAGE_SIDE):
                    total += shape[0]
        return total
