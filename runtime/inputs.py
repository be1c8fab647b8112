"""What `compress` and `encode` read: image files, folders of them, and .npz / IDX arrays of digits.

Inputs become chunks of (names, uint8 [n, 28, 28] digits, original sizes), so
a 100,000-image batch never sits in memory whole; a bad input becomes a
Failure and the rest go on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import arrays, images
from .errors import DataError
from .spec import IMAGE_SIDE

CHUNK = 4096  # digits per chunk


@dataclass
class Chunk:
    names: list[str]
    digits: np.ndarray  # uint8 [n, 28, 28]
    sizes: list[tuple[int, int]]
    source: str | None = None  # the array file it came from; None for image files


@dataclass
class Failure:
    source: str
    reason: str


@dataclass
class Plan:
    """Every input, expanded: image files with their names, array files, and what could not be used."""

    image_files: list[tuple[Path, str]] = field(default_factory=list)
    array_files: list[Path] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def single_image(self) -> bool:
        return len(self.image_files) == 1 and not self.array_files


def is_array_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".npz") or ("idx" in name and ("ubyte" in name or name.endswith((".idx", ".gz"))))


def plan(inputs: list[Path]) -> Plan:
    result = Plan()
    for path in inputs:
        if path.is_dir():
            found = sorted(_images_under(path))
            if not found:
                result.failures.append(Failure(str(path), "folder holds no images"))
            result.image_files += [(f, f.relative_to(path).with_suffix("").as_posix()) for f in found]
        elif is_array_file(path):
            result.array_files.append(path)
        else:
            result.image_files.append((path, path.stem))
    return result


def _images_under(folder: Path) -> Iterator[Path]:
    # os.walk does not follow symbolic links to folders, so a link loop cannot trap it.
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if path.suffix.lower() in images.IMAGE_SUFFIXES and path.is_file():
                yield path


def chunks(todo: Plan, invert: bool | None, framing: str = "locate", chunk: int = CHUNK) -> Iterator[Chunk | Failure]:
    """Digits in input order, `chunk` at a time; failures as they happen.

    An array file can fail midway (truncated, corrupt): its Failure then follows chunks already
    yielded from it, which carry its path in `source` so the caller can drop them.
    """
    yield from todo.failures
    names, digits, sizes = [], [], []
    for path, name in todo.image_files:
        try:
            digit, size = images.read_image(path, invert=invert, framing=framing)
        except DataError as e:
            yield Failure(str(path), str(e))
            continue
        names.append(name), digits.append(digit), sizes.append(size)
        if len(names) == chunk:
            yield Chunk(names, np.stack(digits), sizes)
            names, digits, sizes = [], [], []
    if names:
        yield Chunk(names, np.stack(digits), sizes)
    for path in todo.array_files:
        stem = path.name.removesuffix(".gz").removesuffix(".npz")
        starts: dict[str, int] = {}
        try:
            for key, block in arrays.iter_image_blocks(path, chunk):
                start = starts.get(key, 0)
                starts[key] = start + len(block)
                prefix = f"{stem}/{key}" if key else stem
                yield Chunk([f"{prefix}/{start + i:05d}" for i in range(len(block))],
                            _inverted(block) if invert else block,
                            [(IMAGE_SIDE, IMAGE_SIDE)] * len(block), source=str(path))
        except DataError as e:
            yield Failure(str(path), str(e))


def _inverted(block: np.ndarray) -> np.ndarray:
    return 255 - block


def unique_names(names: list[str]) -> list[str]:
    """Names as given, with `~2`, `~3`... added to repeats, so every code has its own."""
    used: set[str] = set()
    result = []
    for name in names:
        candidate, k = name, 1
        while candidate in used:
            k += 1
            candidate = f"{name}~{k}"
        used.add(candidate)
        result.append(candidate)
    return result
