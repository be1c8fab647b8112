"""Digits written into documents, rendered from real MNIST test digits: ruled and squared paper, table
cells, a register's row-number column, and 28x28 crops framed by another data set's rules. Seeded and
deterministic; each input keeps its hand-framed reference (the MNIST digit it was drawn from).

The kinds:
  ruled     - lines through the digit, a third to a half of its height apart;
  beside    - a line under the digit (its baseline) and one over it, clear of its strokes;
  squared   - squared paper, a quarter to two fifths of the digit apart;
  cell      - a table's cell: a frame close around the digit, with the next cells' borders;
  register  - a register's row-number column: the digit on light paper between the book's dark edge and
              a ruled frame, a full stop after it, the next cells' writing cut by the picture's edges;
  strip     - a strip of paper with the digit between two wide dark areas (a book's edge, a dark table);
  punched   - a punch hole near the digit, on ruled paper;
  other28   - 28x28 crops framed by another data set's rules (the digit 24-26 px tall, centred by its box).
Every picture but other28 is rotated up to 4 degrees, blurred a little, given scanner noise and saved
as a JPEG or PNG.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

KINDS = ("ruled", "beside", "squared", "cell", "register", "strip", "punched", "other28")


@dataclass
class Document:
    kind: str
    label: int
    data: bytes  # the file's bytes
    suffix: str
    reference: np.ndarray  # uint8 28x28: the digit framed by hand (MNIST's own)


def documents(digits: np.ndarray, labels: np.ndarray, per_kind: int, seed: int = 0) -> list[Document]:
    """`per_kind` documents of each kind, from the digits in turn (digit i, i+1, ... for every kind)."""
    rng = np.random.default_rng(seed)
    made = []
    for kind in KINDS:
        for index in range(per_kind):
            at = index % len(digits)
            neighbours = digits[[(at + 1) % len(digits), (at + 2) % len(digits)]]
            image = RENDERERS[kind](digits[at], rng, neighbours)
            data, suffix = _encoded(image, rng, lossless=kind == "other28")
            made.append(Document(kind, int(labels[at]), data, suffix, digits[at]))
    return made


def _ink(digit: np.ndarray, side: int) -> np.ndarray:
    """The digit enlarged smoothly to side x side, as ink strength in [0, 1]."""
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255


def _paper(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.78, 0.95) + rng.normal(0, 0.015, (height, width)).astype(np.float32)


def _write(page: np.ndarray, ink: np.ndarray, top: int, left: int, darkness: float) -> None:
    """Dark ink over the page (the part that fits)."""
    region = page[top : top + ink.shape[0], left : left + ink.shape[1]]
    region *= 1 - darkness * ink[: region.shape[0], : region.shape[1]]


def _row_line(page: np.ndarray, row: int, thickness: int, darkness: float) -> None:
    page[max(row, 0) : max(row + thickness, 0)] *= 1 - darkness


def _column_line(page: np.ndarray, column: int, thickness: int, darkness: float) -> None:
    page[:, max(column, 0) : max(column + thickness, 0)] *= 1 - darkness


def _scanned(page: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Rotated up to 4 degrees, a little blur, scanner noise."""
    image = Image.fromarray(np.clip(page * 255, 0, 255).astype(np.uint8))
    fill = int(np.median(page) * 255)
    image = image.rotate(rng.uniform(-4, 4), resample=Image.Resampling.BICUBIC, fillcolor=fill)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    noisy = np.asarray(image, np.float32) + rng.normal(0, 4, (image.height, image.width))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _encoded(image: Image.Image, rng: np.random.Generator, lossless: bool) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if lossless or rng.random() < 0.5:
        image.save(buffer, format="PNG")
        return buffer.getvalue(), ".png"
    image.save(buffer, format="JPEG", quality=int(rng.integers(75, 96)))
    return buffer.getvalue(), ".jpg"


def ruled(digit, rng, _neighbours) -> Image.Image:
    side = int(rng.integers(40, 90))
    page = _paper(int(side * 1.6), int(side * 1.6), rng)
    gap = int(side * rng.uniform(0.3, 0.45))
    for row in range(int(rng.integers(0, gap)), page.shape[0], gap):
        _row_line(page, row, int(rng.integers(1, 3)), rng.uniform(0.3, 0.6))
    _write(page, _ink(digit, side), (page.shape[0] - side) // 2, (page.shape[1] - side) // 2, 0.85)
    return _scanned(page, rng)


def beside(digit, rng, _neighbours) -> Image.Image:
    side = int(rng.integers(40, 90))
    page = _paper(int(side * 1.7), int(side * 1.8), rng)
    top = (page.shape[0] - side) // 2
    _write(page, _ink(digit, side), top, (page.shape[1] - side) // 2, 0.85)
    _row_line(page, top + side - int(side * 0.08), int(rng.integers(1, 3)), rng.uniform(0.35, 0.6))  # baseline
    _row_line(page, top - int(side * rng.uniform(0.1, 0.25)), int(rng.integers(1, 3)), rng.uniform(0.35, 0.6))
    return _scanned(page, rng)


def squared(digit, rng, _neighbours) -> Image.Image:
    side = int(rng.integers(40, 90))
    page = _paper(int(side * 1.6), int(side * 1.6), rng)
    gap = int(side * rng.uniform(0.25, 0.4))
    for row in range(int(rng.integers(0, gap)), page.shape[0], gap):
        _row_line(page, row, 1, 0.4)
    for column in range(int(rng.integers(0, gap)), page.shape[1], gap):
        _column_line(page, column, 1, 0.4)
    _write(page, _ink(digit, side), (page.shape[0] - side) // 2, (page.shape[1] - side) // 2, 0.85)
    return _scanned(page, rng)


def cell(digit, rng, _neighbours) -> Image.Image:
    side = int(rng.integers(40, 80))
    height, width, pad = int(side * rng.uniform(1.15, 1.4)), int(side * rng.uniform(1.2, 1.6)), int(side * 0.2)
    page = _paper(height + 2 * pad, width + 2 * pad, rng)
    thickness = int(rng.integers(1, 4))
    for at in (pad, pad + height):
        _row_line(page, at, thickness, 0.7)
    for at in (pad, pad + width):
        _column_line(page, at, thickness, 0.7)
    left = pad + (width - side) // 2 + int(rng.integers(-3, 4))
    _write(page, _ink(digit, side), pad + (height - side) // 2, left, 0.85)
    return _scanned(page, rng)


def register(digit, rng, neighbours) -> Image.Image:
    side = int(rng.integers(40, 70))
    height, width = int(side * rng.uniform(1.3, 1.7)), int(side * rng.uniform(1.8, 2.4))
    page = _paper(height, width, rng)
    edge = int(width * rng.uniform(0.12, 0.25))
    page[:, :edge] = rng.uniform(0.15, 0.35) + rng.normal(0, 0.03, (height, edge))  # the book's dark edge
    frame = int(width * rng.uniform(0.72, 0.85))
    _column_line(page, frame, int(rng.integers(2, 4)), 0.7)
    for row in (int(rng.integers(0, height // 8)), int(height - rng.integers(2, height // 8))):
        _row_line(page, row, 2, 0.6)
    ink = _ink(digit, side)
    left = int(rng.integers(edge + 2, max(edge + 3, frame - side - side // 4)))
    top = (height - side) // 2 + int(rng.integers(-side // 10, side // 10 + 1))
    _write(page, ink, top, left, rng.uniform(0.7, 0.9))
    _full_stop(page, ink, top, left, side, rng)
    _write(page, _ink(neighbours[0], side)[:, : max(1, width - frame - 4)], top, frame + 5, 0.8)  # next column
    _write(page, _ink(neighbours[1], side)[-side // 4 :], 0, max(0, left + int(rng.integers(-5, 6))), 0.8)  # above
    return _scanned(page, rng)


def _full_stop(page: np.ndarray, ink: np.ndarray, top: int, left: int, side: int, rng) -> None:
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0.3), np.flatnonzero(ink.max(axis=0) > 0.3)
    centre = (top + rows[-1] - 3, left + columns[-1] + int(rng.integers(3, 8)))
    radius = max(2, side // 18)
    y, x = np.mgrid[: page.shape[0], : page.shape[1]]
    page[(y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius * radius] *= 0.25


def strip(digit, rng, _neighbours) -> Image.Image:
    side = int(rng.integers(40, 70))
    height, width = int(side * rng.uniform(1.3, 1.7)), int(side * rng.uniform(2.4, 3.0))
    page = _paper(height, width, rng)
    edge = int(width * rng.uniform(0.4, 0.5))
    page[:, :edge] = rng.uniform(0.1, 0.3) + rng.normal(0, 0.03, (height, edge))
    frame = min(width - 6, edge + side + int(side * rng.uniform(0.4, 0.7)))
    _column_line(page, frame, int(rng.integers(2, 4)), 0.7)
    page[:, frame + 4 :] = rng.uniform(0.1, 0.3)  # the next page, or a dark table
    left = edge + int(rng.integers(2, max(3, frame - edge - side - 2)))
    _write(page, _ink(digit, side), (height - side) // 2, left, rng.uniform(0.7, 0.9))
    return _scanned(page, rng)


def punched(digit, rng, _neighbours) -> Image.Image:
    side = int(rng.integers(50, 90))
    page = _paper(int(side * 1.6), int(side * 2.0), rng)
    gap = int(side * rng.uniform(0.55, 0.75))
    for row in range(int(rng.integers(0, gap)), page.shape[0], gap):
        _row_line(page, row, 1, rng.uniform(0.3, 0.5))
    top, left = (page.shape[0] - side) // 2, int(page.shape[1] * 0.45)
    _write(page, _ink(digit, side), top, left, 0.85)
    radius = int(side * rng.uniform(0.12, 0.18))
    centre = (top + side // 2 + int(rng.integers(-side // 4, side // 4)), left - radius - int(side * 0.25))
    y, x = np.mgrid[: page.shape[0], : page.shape[1]]
    page[(y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius * radius] = rng.uniform(0.05, 0.2)  # the hole
    return _scanned(page, rng)


def other28(digit, rng, _neighbours) -> Image.Image:
    """The digit's box scaled to 24-26 px tall and centred by the box in 28x28, white on black."""
    rows, columns = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    box = digit[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1].astype(np.float32)
    height = int(rng.integers(24, 27))
    width = min(28, max(1, round(box.shape[1] * height / box.shape[0])))
    scaled = np.asarray(Image.fromarray(box).resize((width, height), Image.Resampling.BICUBIC))
    crop = np.zeros((28, 28), np.float32)
    top, left = (28 - height) // 2, (28 - width) // 2
    crop[top : top + height, left : left + width] = scaled
    return Image.fromarray(np.clip(np.rint(crop), 0, 255).astype(np.uint8))


RENDERERS = {
    "ruled": ruled,
    "beside": beside,
    "squared": squared,
    "cell": cell,
    "register": register,
    "strip": strip,
    "punched": punched,
    "other28": other28,
}
