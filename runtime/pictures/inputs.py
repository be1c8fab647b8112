"""What `compress` and `encode` read: image files, folders of them, and .npz / IDX arrays of digits.

Inputs become chunks of (names, uint8 [n, 28, 28] digits, original sizes), so
a 100,000-image batch never sits in memory whole; a bad input becomes a
Failure and the rest go on.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..aez.nametable import MAX_NAME_BYTES
from ..errors import DataError, printable
from . import arrays, images

# Digits read and encoded at once: 3 MB as uint8, 13 MB as the model's float32 input; past a few
# thousand, onnxruntime's per-call cost is already amortised, so larger only costs memory.
CHUNK = 4096


@dataclass
class Chunk:
    names: list[str]
    digits: np.ndarray  # uint8 [n, 28, 28]
    sizes: list[tuple[int, int]]
    source: str | None = None  # the array file it came from; None for image files
    labels: list[str] | None = None  # what to call each digit in messages: its file; None: its name
    concerns: list[str | None] | None = None  # what the localiser found instead of a digit; None: nothing


@dataclass
class Failure:
    source: str
    reason: str


@dataclass
class Plan:
    """Every input, expanded: image files with their names, array files, and what could not be used."""

    given: list[Path] = field(default_factory=list)  # the paths as the user named them
    image_files: list[tuple[Path, str]] = field(default_factory=list)
    array_files: list[Path] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def paths(self):
        """Every path the plan reads from, folders included: what no output may be."""
        return itertools.chain(self.given, (path for path, _ in self.image_files), self.array_files)

    @property
    def single_image(self) -> bool:
        return len(self.image_files) == 1 and not self.array_files

    def array_prefixes(self) -> list[str]:
        """What each array file's codes are named under (STEM/KEY/INDEX): its stem, made unique (`~2`...)
        among the array files and the first parts of the image files' names, so that every name a plan
        gives is unique without a writer holding them all."""
        taken = {name.split("/")[0] for _, name in self.image_files}
        prefixes = []
        for path in self.array_files:
            prefixes.append(_first_free(array_stem(path), taken))
        return prefixes


ARRAY_SUFFIXES = (".npz", ".npy")
NOT_REGULAR = "not a regular file (a pipe, socket or device)"


def is_array_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(ARRAY_SUFFIXES) or ("idx" in name and ("ubyte" in name or name.endswith((".idx", ".gz"))))


def array_stem(path: Path) -> str:
    """digits.npz, digits.npy, train-images-idx3-ubyte.gz -> the name their codes are filed under."""
    name = path.name.removesuffix(".gz")
    return next((name[: -len(s)] for s in ARRAY_SUFFIXES if name.endswith(s)), name)


def plan(inputs: list[Path]) -> Plan:
    result = Plan(given=list(inputs))
    for path in inputs:
        if path.is_dir():
            found, skipped = pictures_under(path)
            result.failures += skipped
            if not found and not skipped:
                result.failures.append(Failure(str(path), f"{printable(str(path))}: folder holds no images"))
            for file in found:
                _add(result, file, file.relative_to(path).with_suffix("").as_posix())
        elif is_array_file(path):
            _add(result, path, array_stem(path), array=True)
        else:
            _add(result, path, path.stem)
    files = [path for path, _ in result.image_files]
    result.image_files = list(zip(files, unique_names([name for _, name in result.image_files])))
    return result


def _add(todo: Plan, path: Path, name: str, array: bool = False) -> None:
    """File one input under `name`, or a Failure when it cannot be read safely or named in a code file."""
    if is_special(path):  # opening a FIFO blocks until a writer comes; a device may never end
        reason = NOT_REGULAR
    elif not _is_utf8(name):  # code files hold UTF-8 names; this one would not survive the round trip
        reason = "its name is not valid UTF-8; rename the file"
    elif len(name.encode("utf-8")) > MAX_NAME_BYTES:
        reason = f"its name is longer than a code file holds ({MAX_NAME_BYTES} bytes); rename the file"
    elif array:
        todo.array_files.append(path)
        return
    else:
        todo.image_files.append((path, name))
        return
    todo.failures.append(Failure(str(path), f"{printable(str(path))}: {reason}"))


def is_special(path: Path) -> bool:
    """A FIFO, socket or device (directly or through a link): reading it can block or never end."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False  # missing or unreadable: the reader says so in its own words
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def pictures_under(folder: Path) -> tuple[list[Path], list[Failure]]:
    """The picture files in a folder and its subfolders, sorted, and a Failure for each entry of a picture's
    name that cannot be read as one (a dangling link, a link loop, a pipe, socket or device, which could block
    a reader), and for each subfolder not walked (unreadable; a link to a folder, which is not followed, so
    a link loop cannot trap the walk). The one folder walk of compress, train and export."""
    found, skipped = [], []

    def unreadable(error: OSError) -> None:
        skipped.append(
            Failure(str(error.filename), f"{printable(str(error.filename))}: folder not read ({error.strerror})")
        )

    for root, folders, files in os.walk(folder, onerror=unreadable):
        for name in folders:
            if os.path.islink(os.path.join(root, name)):
                where = os.path.join(root, name)
                skipped.append(Failure(where, f"{printable(where)}: a link to a folder, not followed"))
        for name in files:
            path = Path(root) / name
            if path.suffix.lower() not in images.IMAGE_SUFFIXES:
                continue
            if is_special(path):
                skipped.append(Failure(str(path), f"{printable(str(path))}: {NOT_REGULAR}"))
            elif path.is_file():
                found.append(path)
            else:
                skipped.append(Failure(str(path), f"{printable(str(path))}: {_broken_link(path)}"))
    return sorted(found), sorted(skipped, key=lambda failure: failure.source)


def _broken_link(path: Path) -> str:
    """Why an entry of a folder that is no file is no file: a link to nothing, a link loop."""
    try:
        os.stat(path)
    except OSError as e:
        import errno

        return "a symbolic link in a loop" if e.errno == errno.ELOOP else "a symbolic link to nothing"
    return "not a regular file"


def chunks(
    todo: Plan,
    invert: bool | None,
    framing: str = "locate",
    chunk: int = CHUNK,
    shape: tuple[int, ...] | None = None,
    crop: bool = False,
    numbers: bool = False,
) -> Iterator[Chunk | Failure]:
    """Digits in input order, `chunk` at a time; failures as they happen. `shape`: a model of your own's
    image, (H, W) or (H, W, C): pictures are resized to it (`crop`: cropped to its aspect ratio first) and
    arrays must hold it (None: MNIST digits). `numbers`: a model of float values, which reads arrays of any
    numbers (as float32) and no pictures.

    An array file can fail midway (truncated, corrupt): its Failure then follows chunks already
    yielded from it, which carry its path in `source` so the caller can drop them.
    """
    yield from todo.failures
    if numbers:
        yield from (Failure(str(path), no_pictures(path, shape)) for path, _ in todo.image_files)
    else:
        yield from _image_chunks(todo, invert, framing, chunk, shape, crop)
    for path, stem in zip(todo.array_files, todo.array_prefixes()):
        yield from _array_chunks(path, stem, invert, chunk, shape, numbers)


def no_pictures(path: Path, shape: tuple[int, ...] | None) -> str:
    """Why a picture is no input of a model of float values."""
    return f"{printable(str(path))}: the model takes arrays of {shape} numbers (.npy, .npz), not pictures"


def _image_chunks(
    todo: Plan, invert: bool | None, framing: str, chunk: int, shape: tuple[int, ...] | None, crop: bool
) -> Iterator[Chunk | Failure]:
    names, pictures = [], []
    for path, name in todo.image_files:
        try:
            picture = images.read_image(path, invert=invert, framing=framing, shape=shape, crop=crop)
        except DataError as e:
            if names:  # the digits before it first: messages come in input order, however the work is split
                yield image_chunk(names, pictures)
                names, pictures = [], []
            yield Failure(str(path), str(e))
            continue
        names.append(name), pictures.append((path, picture))
        if len(names) == chunk:
            yield image_chunk(names, pictures)
            names, pictures = [], []
    if names:
        yield image_chunk(names, pictures)


def _array_chunks(
    path: Path, stem: str, invert: bool | None, chunk: int, shape: tuple[int, ...] | None = None, numbers: bool = False
) -> Iterator[Chunk | Failure]:
    """An array file's digits as they are: arrays hold digits framed by their data set's own rules."""
    starts: dict[str, int] = {}
    image = shape or arrays.DIGIT
    size = arrays.picture_size(image)
    try:
        for key, block in arrays.iter_image_blocks(path, chunk, image, numbers):
            start = starts.get(key, 0)
            starts[key] = start + len(block)
            prefix = f"{stem}/{key}" if key else stem
            block = _inverted(block) if invert else block
            names = [f"{prefix}/{start + i:05d}" for i in range(len(block))]
            yield Chunk(names, block, [size] * len(block), source=str(path))
    except DataError as e:
        yield Failure(str(path), str(e))


def image_chunk(names: list[str], pictures: list[tuple[Path, images.Picture]]) -> Chunk:
    """A chunk of digits read from image files ((path, Picture) pairs), with what the localiser said."""
    concerns = [picture.concern for _, picture in pictures]
    return Chunk(
        names,
        np.stack([picture.digit for _, picture in pictures]),
        [picture.size for _, picture in pictures],
        labels=[str(path) for path, _ in pictures],
        concerns=concerns if any(concerns) else None,
    )


def _inverted(block: np.ndarray) -> np.ndarray:
    return 255 - block


def unique_names(names: list[str]) -> list[str]:
    """Names as given, with `~2`, `~3`... added to repeats, so every code has its own."""
    used: set[str] = set()
    return [_first_free(name, used) for name in names]


def _first_free(name: str, used: set[str]) -> str:
    """`name`, or `name~2`, `name~3`... the first not in `used`; it is added to `used`."""
    candidate, k = name, 1
    while candidate in used:
        k += 1
        candidate = f"{name}~{k}"
    used.add(candidate)
    return candidate
