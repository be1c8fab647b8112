"""A format-2 file's original sizes (docs/FORMAT.md: a varint width and height for each code, or one 0 byte
for MNIST's 28x28), read into 8 bytes a code and handed out as (width, height) tuples."""

from __future__ import annotations

import array
from collections.abc import Sequence

import numpy as np

from .. import spec
from . import varint

MAX_SIDE = (1 << 32) - 1  # an original width or height
MNIST_SIZE = (28, 28)  # an original size stored as one 0 byte


def usual_size(image_shape: tuple[int, ...] | None) -> tuple[int, int]:
    """(width, height) of the pictures a model takes (spec.image_of: a square flat input's side too); MNIST's
    28x28 for the shipped models, whose files record no image shape, and for a flat input of no picture."""
    if not image_shape:
        return MNIST_SIZE
    image = spec.image_of(tuple(image_shape))
    return (int(image[1]), int(image[0])) if len(image) >= 2 else MNIST_SIZE


class OriginalSizes(Sequence):
    """Each code's (width, height), held as one uint32 array: a tuple of two for each of a million codes would
    take 100 MB, this 8 MB. Compares equal to the tuple of tuples it stands for."""

    def __init__(self, pairs: np.ndarray):
        self._pairs = pairs

    def __len__(self) -> int:
        return len(self._pairs)

    def __getitem__(self, where):
        if isinstance(where, slice):
            return tuple(map(tuple, self._pairs[where].tolist()))
        width, height = self._pairs[where].tolist()
        return width, height

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"OriginalSizes({len(self)} sizes)"


def read(index: varint.Reader, count: int) -> OriginalSizes:
    """The table's `count` sizes; varint.CorruptError for one out of range or a table shorter than that."""
    if count > index.left:  # at least a byte each: checked before the loop
        raise varint.CorruptError("original sizes run past the end of the index")
    flat = array.array("I")  # width, height, width, height ...
    for _ in range(count):
        width = index.varint("original sizes")
        height = index.varint("original sizes") if width else MNIST_SIZE[1]
        if width == 0:
            width = MNIST_SIZE[0]
        elif not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise varint.CorruptError(f"original size {width}x{height} out of range")
        flat.extend((width, height))
    return OriginalSizes(np.frombuffer(flat, np.uint32).reshape(count, 2))
