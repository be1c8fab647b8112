"""Shapes that are not digits, seen in the 28x28 frame: a line, a box, a solid block.

When the localiser takes a ruled line, a table's frame or a strip of blank paper for the digit, the model
reconstructs it cleanly (it is simple), so the round trip's PSNR does not warn; its shape does. Each rule
was checked on all 60,000 MNIST training digits (../shared/data/mnist-60k.npz, ink above half-grey): none
has a box under 8 pixels tall (a line is 1-6), none has three straight full sides with a hollow middle
(a frame), and none fills a box 8 pixels wide or more as a solid block does: these rules judge a shape
without warning on any of them (tests/test_shapes.py checks the 10,000 in tests/data).
"""

from __future__ import annotations

import numpy as np

from ..spec import IMAGE_SIDE

INK = 0.5  # half-grey: a pixel of the stroke
LINE_HEIGHT = 6  # a digit's box (20 px long) is at least 8 px tall in MNIST: at most this is a line
SIDE = 0.12  # a side of the box: this share of its rows (columns) ...
FULL_SIDE = 0.9  # ... with ink along this share of the box's width (height)
HOLLOW = 0.6  # a frame fills at most this share of its box ...
EMPTY = 0.35  # ... and of the middle half of it (what it frames is small; noise fills half)
SOLID = 0.85  # a block fills at least this share of its box ...
BLOCK_WIDTH = 8  # ... and is at least this wide (a 1 is a narrow solid bar)


LINE = "a straight line, not a digit (a ruled line?)"
BLOCK = "a solid block, not a digit (a strip of paper or a shadow?)"
FRAME = "a box, not a digit (a frame or a table's cell?)"


def concerns(x: np.ndarray) -> list[str | None]:
    """Framed digits as the model takes them (floats in [0, 1], (N, 784)) -> per digit, what it looks like
    if it is not a digit, in words for the warning; None for a digit-like shape. Whole-array operations:
    a bulk run pays a few microseconds a digit."""
    ink = x.reshape(-1, IMAGE_SIDE, IMAGE_SIDE) > INK
    rows, columns = _span(ink.any(axis=2)), _span(ink.any(axis=1))
    height, width = rows[1] - rows[0], columns[1] - columns[0]
    fill = ink.sum(axis=(1, 2)) / np.maximum(height * width, 1)
    line = (height <= LINE_HEIGHT) & (width > LINE_HEIGHT)
    block = (fill >= SOLID) & (width >= BLOCK_WIDTH)
    frame = (fill <= HOLLOW) & (np.minimum(height, width) >= 10) & _flat_top_or_bottom(ink, rows, columns)
    if frame.any():
        inside = _inside_fill(ink[frame], rows[:, frame], columns[:, frame])
        frame[frame] = (_full_sides(ink[frame], rows[:, frame], columns[:, frame]) >= 3) & (inside <= EMPTY)
    said = np.select([line, block, frame], [1, 2, 3], 0)
    return [(None, LINE, BLOCK, FRAME)[k] for k in said.tolist()]


def _span(lines: np.ndarray) -> np.ndarray:
    """(N, 28) bool rows (columns) with ink -> (2, N): the first and one past the last (0, 0 without ink)."""
    first = lines.argmax(axis=1)
    end = IMAGE_SIDE - lines[:, ::-1].argmax(axis=1)
    has = lines.any(axis=1)
    return np.stack([np.where(has, first, 0), np.where(has, end, 0)])


def _flat_top_or_bottom(ink: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """A cheap first look: the box's first or last row has ink along half its width (few digits' do)."""
    which = np.arange(len(ink))
    width = np.maximum(columns[1] - columns[0], 1)
    top = ink[which, rows[0]].sum(axis=1)
    bottom = ink[which, np.maximum(rows[1] - 1, 0)].sum(axis=1)
    return np.maximum(top, bottom) >= 0.5 * width


def _inside_fill(ink: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The share of ink in the middle half of each box (a quarter in from each side)."""
    index = np.arange(IMAGE_SIDE)
    quarter_rows, quarter_columns = (rows[1] - rows[0]) // 4, (columns[1] - columns[0]) // 4
    in_rows = (index >= (rows[0] + quarter_rows)[:, None]) & (index < (rows[1] - quarter_rows)[:, None])
    in_columns = (index >= (columns[0] + quarter_columns)[:, None]) & (index < (columns[1] - quarter_columns)[:, None])
    middle = in_rows[:, :, None] & in_columns[:, None, :]
    return (ink & middle).sum(axis=(1, 2)) / np.maximum(middle.sum(axis=(1, 2)), 1)


def _full_sides(ink: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """How many of each box's four sides are straight full lines of ink."""
    index = np.arange(IMAGE_SIDE)
    deep = np.maximum(1, np.rint(SIDE * (rows[1] - rows[0]))).astype(int)
    wide = np.maximum(1, np.rint(SIDE * (columns[1] - columns[0]))).astype(int)
    in_rows = (index >= rows[0][:, None]) & (index < rows[1][:, None])
    in_columns = (index >= columns[0][:, None]) & (index < columns[1][:, None])
    count = np.zeros(len(ink), int)
    for band, along, axis in (
        ((index >= rows[0][:, None]) & (index < (rows[0] + deep)[:, None]), in_columns, 1),
        ((index >= (rows[1] - deep)[:, None]) & (index < rows[1][:, None]), in_columns, 1),
        ((index >= columns[0][:, None]) & (index < (columns[0] + wide)[:, None]), in_rows, 2),
        ((index >= (columns[1] - wide)[:, None]) & (index < columns[1][:, None]), in_rows, 2),
    ):
        mask = band[:, :, None] if axis == 1 else band[:, None, :]
        covered = (ink & mask).any(axis=axis) & along
        count += covered.sum(axis=1) >= FULL_SIDE * along.sum(axis=1)
    return count
