"""Issue 22's test set: digits in ruled and framed documents, and real handwriting by other writers.

Rendered from the MNIST test digits (never the training digits), as dark ink on light paper, scanned:
every page is rotated up to 5 degrees, blurred a little, given scanner noise and kept as a PNG or a JPEG.
Seeded and deterministic; the same test digits, chosen by a seeded draw, go into every kind.
  ruled_through - a notebook's ruled lines, closer than the digit is tall, through its strokes;
  ruled_beside  - a baseline just under the digit and the line above just over it, clear of its strokes;
  squared       - squared paper, a quarter to two fifths of the digit apart;
  cell          - a table cell: its frame close around the digit, the next cells' borders and writing;
  register      - a register's row-number column: the digit and its full stop on a light paper strip
                  between the book's dark edge (its gutter) and a ruled frame line, the writing of the
                  next column and of the rows above and below cut by the picture's edges;
  punched       - a punch hole beside the digit, on lined paper;
  other28       - 28x28 crops framed by another data set's rules: the digit's box scaled to 24-26 px tall
                  and centred by its box, not by its mass (white on black, PNG, no scan).
Real sources, shipped in tests/data/real_documents/ (one README each: origin, licence, writers):
  semeion       - 400 Semeion digits (UCI, CC BY 4.0; about 80 writers), 16x16 boxes, as they are;
  optdigits     - 300 UCI optdigits (CC BY 4.0; 30 writers), cut from preprinted forms by NIST's
                  programs into 32x32 bitmaps, as they are.

Every input keeps its hand-framed reference: the same digit as MNIST frames it (for the renders, the
MNIST digit itself). `python -m bench.real_documents` measures what aeonnx makes of them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFilter

from .real_inputs import enlarge, grain

KINDS = ("ruled_through", "ruled_beside", "squared", "cell", "register", "punched", "other28")
SOURCE_FILES = {  # real handwriting shipped in DATA, each as its source framed it
    "semeion": "semeion/semeion-400.npz",
    "optdigits": "optdigits/optdigits-orig-300.npz",
}
SOURCES = tuple(SOURCE_FILES)
DATA = Path(__file__).resolve().parent / "data" / "real_documents"
MAX_TURN = 5.0  # degrees a page is rotated at most


Rendered = tuple[Image.Image, tuple[int, int, int, int] | None]  # a picture, and where its digit is


class Sample(NamedTuple):
    image: Image.Image  # as a file holds it (decoded from its PNG or JPEG bytes)
    label: int
    reference: np.ndarray  # uint8 28x28, white on black: the same digit framed by hand, as MNIST frames it
    box: tuple[int, int, int, int] | None = None  # where the digit was written (top, left, bottom, right), in
    # the picture's pixels before the scan's turn of at most MAX_TURN degrees; None: the picture is the digit


def all_kinds(digits: np.ndarray, labels: np.ndarray, seed: int = 0, per_kind: int = 200) -> dict[str, list[Sample]]:
    """Every rendered kind: `per_kind` test digits chosen by a seeded draw, the same ones in every kind."""
    chosen = np.sort(np.random.default_rng(seed).choice(len(digits), size=min(per_kind, len(digits)), replace=False))
    made = {}
    for number, kind in enumerate(KINDS):
        samples = []
        for index in chosen:
            rng = np.random.default_rng([seed, number, int(index)])
            neighbours = digits[rng.choice(len(digits), size=3)]  # the writing in the next cells
            image, box = RENDERERS[kind](digits[index], rng, neighbours)
            samples.append(Sample(image, int(labels[index]), digits[index], box))
        made[kind] = samples
    return made


def real_sources() -> dict[str, list[Sample]]:
    """The real handwriting shipped in tests/data/real_documents/, each digit as its source framed it."""
    made = {}
    for source, file in SOURCE_FILES.items():
        with np.load(DATA / file) as archive:
            images, labels = archive["images"], archive["labels"]
        made[source] = [
            Sample(Image.fromarray(image), int(label), mnist_framed(image)) for image, label in zip(images, labels)
        ]
    return made


def everything(digits: np.ndarray, labels: np.ndarray, seed: int = 0, per_kind: int = 200) -> dict[str, list[Sample]]:
    return {**all_kinds(digits, labels, seed, per_kind), **real_sources()}


def write(made: dict[str, list[Sample]], folder: Path) -> dict[str, list[Path]]:
    """Every input as a file, FOLDER/KIND/NNNN-LABEL.png (lossless: the pixels its PNG or JPEG held), to
    look at or to give to `aeonnx compress` and `aeonnx inspect`; the paths per kind, in order."""
    paths = {}
    for kind, samples in made.items():
        (folder / kind).mkdir(parents=True, exist_ok=True)
        paths[kind] = [folder / kind / f"{index:04d}-{sample.label}.png" for index, sample in enumerate(samples)]
        for path, sample in zip(paths[kind], samples):
            sample.image.save(path)
    return paths


def mnist_framed(ink: np.ndarray) -> np.ndarray:
    """A digit (white ink on black, any size) framed as MNIST framed its digits: its box scaled so its
    longer side is 20 px, placed in 28x28 with its centre of mass at pixel 14.0 (runtime/pictures/framed.py)."""
    ink = np.asarray(ink, np.float32)
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    box = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = 20 / max(box.shape)
    size = (max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale)))
    small = np.clip(np.asarray(Image.fromarray(box, mode="F").resize(size, Image.Resampling.LANCZOS)), 0, 255)
    total = small.sum()
    y, x = np.indices(small.shape)
    top = int(np.clip(round(14.0 - (y * small).sum() / total), 0, 28 - small.shape[0]))
    left = int(np.clip(round(14.0 - (x * small).sum() / total), 0, 28 - small.shape[1]))
    framed = np.zeros((28, 28), np.float32)
    framed[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.rint(framed).astype(np.uint8)


# The page --------------------------------------------------------------------------------------------


class Page:
    """Paper reflectance in [0, 1], drawn in the picture's coordinates but with a margin all round, so
    that a rotated scan still has lines, edges and writing running to its borders."""

    def __init__(self, height: int, width: int, rng: np.random.Generator):
        self.height, self.width = height, width
        self.pad = math.ceil(0.07 * max(height, width)) + 2
        size = (height + 2 * self.pad, width + 2 * self.pad)
        self.paper = rng.uniform(0.78, 0.95)
        self.pixels = self.paper + grain(*size, rng, rng.uniform(0.005, 0.02))

    def _span(self, start: float, length: float, limit: int) -> slice:
        first = int(round(start)) + self.pad
        return slice(min(max(first, 0), limit), min(max(first + int(round(length)), 0), limit))

    def darken(self, top: float, left: float, height: float, width: float, darkness: float) -> None:
        """A rectangle (in picture coordinates; it may run past the picture) times 1 - darkness."""
        rows = self._span(top, height, self.pixels.shape[0])
        columns = self._span(left, width, self.pixels.shape[1])
        self.pixels[rows, columns] *= 1 - darkness

    def row_line(self, y: float, thickness: int, darkness: float) -> None:
        self.darken(y, -self.pad, thickness, self.width + 2 * self.pad, darkness)

    def column_line(self, x: float, thickness: int, darkness: float) -> None:
        self.darken(-self.pad, x, self.height + 2 * self.pad, thickness, darkness)

    def write(self, ink: np.ndarray, top: float, left: float, darkness: float) -> None:
        """Ink coverage (in [0, 1]) laid over the page at (top, left); what falls outside is cut off."""
        top, left = int(round(top)) + self.pad, int(round(left)) + self.pad
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + ink.shape[0], self.pixels.shape[0]), min(left + ink.shape[1], self.pixels.shape[1])
        if y1 > y0 and x1 > x0:
            self.pixels[y0:y1, x0:x1] *= 1 - darkness * ink[y0 - top : y1 - top, x0 - left : x1 - left]

    def write_digit(self, ink: np.ndarray, top: float, left: float, darkness: float) -> None:
        """The digit itself: written, and where it is remembered (`digit_box`)."""
        self.write(ink, top, left, darkness)
        top, left = int(round(top)), int(round(left))
        self.digit_box = (top, left, top + ink.shape[0], left + ink.shape[1])

    def disc(self, cy: float, cx: float, radius: float, value: float) -> None:
        """A filled circle of the given reflectance (a punch hole, a full stop's blot), softly edged."""
        y, x = np.indices(self.pixels.shape, dtype=np.float32)
        distance = np.hypot(y - cy - self.pad, x - cx - self.pad)
        cover = np.clip(radius + 0.5 - distance, 0, 1)
        self.pixels[:] = self.pixels * (1 - cover) + value * cover

    def scanned(self, rng: np.random.Generator) -> Image.Image:
        """The page scanned: turned up to MAX_TURN degrees, cut to the picture, blurred, with sensor noise."""
        image = Image.fromarray(np.clip(self.pixels, 0, 1).astype(np.float32), mode="F")
        image = image.rotate(rng.uniform(-MAX_TURN, MAX_TURN), Image.Resampling.BICUBIC)
        pixels = np.asarray(image)[self.pad : self.pad + self.height, self.pad : self.pad + self.width]
        blurred = Image.fromarray(np.clip(pixels * 255, 0, 255).astype(np.uint8))
        blurred = blurred.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
        noisy = np.asarray(blurred, np.float32) + rng.normal(0, rng.uniform(1.0, 5.0), (self.height, self.width))
        return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))


def as_file(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The scan as a file keeps it: a JPEG (quality 70-95) half the time, else a PNG; read back."""
    buffer = io.BytesIO()
    if rng.random() < 0.5:
        image.save(buffer, format="JPEG", quality=int(rng.integers(70, 96)))
    else:
        image.save(buffer, format="PNG")
    decoded = Image.open(io.BytesIO(buffer.getvalue()))
    decoded.load()
    return decoded


def tight_ink(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """The digit enlarged smoothly so that its box is about `height` px tall, cut to that box."""
    rows = np.flatnonzero(digit.max(axis=1) > 25)
    side = max(28, round(height * 28 / max(1, rows[-1] - rows[0] + 1)))
    ink = enlarge(digit, side, rng)
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    return ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def _pen(rng: np.random.Generator) -> float:
    return rng.uniform(0.75, 0.93)


def _finished(page: Page, rng: np.random.Generator) -> Rendered:
    return as_file(page.scanned(rng), rng), page.digit_box


# The kinds -------------------------------------------------------------------------------------------


def ruled_through(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    ink = tight_ink(digit, int(rng.integers(30, 72)), rng)
    h, w = ink.shape
    page = Page(round(h * rng.uniform(1.5, 2.2)), round(max(w, h) * rng.uniform(1.4, 2.2)), rng)
    gap = h * rng.uniform(0.35, 0.6)
    thickness, darkness = int(rng.integers(1, 3)), rng.uniform(0.25, 0.55)
    for y in np.arange(rng.uniform(0, gap), page.height, gap):
        page.row_line(y, thickness, darkness)
    if rng.random() < 0.3:  # a margin line
        page.column_line(rng.uniform(0, 0.2) * page.width, int(rng.integers(1, 3)), darkness)
    top = (page.height - h) / 2 + rng.uniform(-0.1, 0.1) * h
    page.write_digit(ink, top, (page.width - w) / 2 + rng.uniform(-0.1, 0.1) * w, _pen(rng))
    return _finished(page, rng)


def ruled_beside(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    ink = tight_ink(digit, int(rng.integers(30, 72)), rng)
    h, w = ink.shape
    page = Page(round(h * rng.uniform(1.6, 2.4)), round(max(w, h) * rng.uniform(1.4, 2.2)), rng)
    top = (page.height - h) / 2 + rng.uniform(-0.1, 0.1) * h
    thickness, darkness = int(rng.integers(1, 3)), rng.uniform(0.3, 0.6)
    below = top + h + rng.uniform(1, max(2, 0.1 * h))  # the baseline the digit sits on
    above = top - thickness - rng.uniform(2, max(3, 0.2 * h))
    spacing = below - above
    for y in np.concatenate([np.arange(above, -spacing, -spacing), np.arange(below, page.height + spacing, spacing)]):
        page.row_line(y, thickness, darkness)
    page.write_digit(ink, top, (page.width - w) / 2 + rng.uniform(-0.15, 0.15) * w, _pen(rng))
    return _finished(page, rng)


def squared(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    ink = tight_ink(digit, int(rng.integers(30, 72)), rng)
    h, w = ink.shape
    page = Page(round(h * rng.uniform(1.4, 2.2)), round(max(w, h) * rng.uniform(1.4, 2.2)), rng)
    gap, darkness = h * rng.uniform(0.25, 0.4), rng.uniform(0.15, 0.4)
    for y in np.arange(rng.uniform(0, gap), page.height, gap):
        page.row_line(y, 1, darkness)
    for x in np.arange(rng.uniform(0, gap), page.width, gap):
        page.column_line(x, 1, darkness)
    top = (page.height - h) / 2 + rng.uniform(-0.1, 0.1) * h
    page.write_digit(ink, top, (page.width - w) / 2 + rng.uniform(-0.1, 0.1) * w, _pen(rng))
    return _finished(page, rng)


def cell(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    """A table cell whose frame comes within a few pixels of the digit; the crop shows some of the next cells."""
    ink = tight_ink(digit, int(rng.integers(30, 64)), rng)
    h, w = ink.shape
    pen = _pen(rng)
    gaps = rng.uniform(2, max(3, 0.18 * h), size=4)  # top, bottom, left, right: digit to frame
    thickness, darkness = int(rng.integers(1, 4)), rng.uniform(0.55, 0.9)
    cell_h, cell_w = h + gaps[0] + gaps[1], w + gaps[2] + gaps[3] + rng.uniform(0, 0.6) * h
    outside = rng.uniform(0.08, 0.5, size=4) * h  # how far the crop reaches past the frame, per side
    page = Page(
        round(cell_h + 2 * thickness + outside[0] + outside[1]),
        round(cell_w + 2 * thickness + outside[2] + outside[3]),
        rng,
    )
    frame_top, frame_left = outside[0], outside[2]
    for y in (frame_top, frame_top + thickness + cell_h, frame_top - cell_h - thickness):
        page.row_line(y, thickness, darkness)
    for x in (
        frame_left,
        frame_left + thickness + cell_w,
        frame_left - cell_w - thickness,
        frame_left + 2 * (cell_w + thickness),
    ):
        page.column_line(x, thickness, darkness)
    top, left = frame_top + thickness + gaps[0], frame_left + thickness + gaps[2]
    page.write_digit(ink, top, left, pen)
    # the next cells' writing: right of the frame, above it and below it, cut by the picture's edges
    right = frame_left + 2 * thickness + cell_w + rng.uniform(2, 0.2 * h)
    page.write(tight_ink(neighbours[0], int(h * rng.uniform(0.8, 1.1)), rng), top + rng.uniform(-3, 3), right, pen)
    upper = tight_ink(neighbours[1], int(h * rng.uniform(0.8, 1.1)), rng)
    page.write(upper, frame_top - gaps[1] - upper.shape[0], left + rng.uniform(-4, 4), pen)
    page.write(
        tight_ink(neighbours[2], int(h * rng.uniform(0.8, 1.1)), rng),
        frame_top + 2 * thickness + cell_h + gaps[0],
        left + rng.uniform(-4, 4),
        pen,
    )
    return _finished(page, rng)


def register(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    """A row number in a parish register: [book edge | strip: digit . | frame | next column's writing],
    or mirrored (a left-hand page: the gutter on the right). Rows above and below show at the edges."""
    ink = tight_ink(digit, int(rng.integers(30, 64)), rng)
    h, w = ink.shape
    pen = _pen(rng)
    stop_gap, stop_radius = rng.uniform(1.5, max(2.0, 0.15 * h)), max(1.2, h * rng.uniform(0.045, 0.08))
    block = w + stop_gap + 2 * stop_radius  # the digit and its full stop
    edge = h * rng.uniform(0.3, 1.6)  # the book's dark edge
    before, after = h * rng.uniform(0.05, 0.4), h * rng.uniform(0.1, 0.45)  # the strip's paper around the block
    frame_at = edge + before + block + after
    thickness = int(rng.integers(2, 5))
    double = rng.random() < 0.4
    beyond = h * rng.uniform(0.2, 0.7)  # the next column, as far as the picture shows it
    width = round(frame_at + thickness * (2 if double else 1) + (3 if double else 0) + beyond)
    above, below = h * rng.uniform(0.25, 0.7), h * rng.uniform(0.25, 0.7)
    height = round(above + h + below)
    mirrored = rng.random() < 0.5

    def x(left: float, span: float) -> float:  # a left edge in the normal layout -> in this picture
        return width - left - span if mirrored else left

    page = Page(height, width, rng)
    gutter = rng.uniform(0.08, 0.3)
    columns = np.arange(width + 2 * page.pad) - page.pad
    fade = h * rng.uniform(0.1, 0.4)
    distance = (width - columns if mirrored else columns) - edge
    shade = np.where(distance < 0, gutter / page.paper, 1 - (1 - gutter / page.paper) * 0.5 * np.exp(-distance / fade))
    page.pixels *= shade[None, :]  # the gutter, and its shadow fading into the paper
    line = rng.uniform(0.6, 0.9)
    page.column_line(x(frame_at, thickness), thickness, line)
    if double:
        page.column_line(x(frame_at + thickness + 3, thickness), thickness, line)
    if rng.random() < 0.7:  # the rows' rulings
        ruling = rng.uniform(0.3, 0.7)
        page.row_line(above - rng.uniform(0.1, 0.25) * h, int(rng.integers(1, 3)), ruling)
        page.row_line(above + h + rng.uniform(0.1, 0.25) * h, int(rng.integers(1, 3)), ruling)
    left = edge + before
    page.write_digit(ink, above, x(left, block), pen)  # in a mirrored layout the block keeps its reading order
    stop_x = x(left, block) + w + stop_gap + stop_radius
    page.disc(above + h - stop_radius - rng.uniform(0, 0.08) * h, stop_x, stop_radius, page.paper * (1 - pen))
    # the next column's writing, cut by the picture's edge, and the row numbers above and below
    nearby = tight_ink(neighbours[0], int(h * rng.uniform(0.8, 1.1)), rng)
    page.write(nearby, above + rng.uniform(-3, 3), x(width - beyond + rng.uniform(2, 0.3 * h), nearby.shape[1]), pen)
    upper = tight_ink(neighbours[1], int(h * rng.uniform(0.8, 1.1)), rng)
    page.write(
        upper, above - rng.uniform(0.3, 0.5) * h - upper.shape[0], x(left + rng.uniform(-4, 4), upper.shape[1]), pen
    )
    lower = tight_ink(neighbours[2], int(h * rng.uniform(0.8, 1.1)), rng)
    page.write(lower, above + h + rng.uniform(0.3, 0.5) * h, x(left + rng.uniform(-4, 4), lower.shape[1]), pen)
    return _finished(page, rng)


def punched(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    """A punch hole beside the digit on lined paper: dark where the scanner's lid is, or light with a shadow."""
    ink = tight_ink(digit, int(rng.integers(30, 64)), rng)
    h, w = ink.shape
    radius = h * rng.uniform(0.3, 0.5)  # a 6 mm hole beside writing 5-10 mm tall
    clear = rng.uniform(0.15, 0.6) * h + radius  # from the digit's box to the hole's centre
    side = rng.integers(3)  # 0: left, 1: right, 2: above
    extra_w = 0 if side == 2 else clear + radius + rng.uniform(0.1, 0.4) * h
    extra_h = clear + radius + rng.uniform(0.1, 0.4) * h if side == 2 else 0
    page = Page(round(h * rng.uniform(1.4, 1.9) + extra_h), round(max(w, h) * rng.uniform(1.3, 1.8) + extra_w), rng)
    gap, darkness = h * rng.uniform(0.9, 1.3), rng.uniform(0.2, 0.45)
    for y in np.arange(rng.uniform(0, gap), page.height, gap):
        page.row_line(y, 1, darkness)
    top = (page.height - h + (extra_h if side == 2 else 0)) / 2
    left = (page.width - w + (extra_w if side == 0 else -extra_w)) / 2
    centre_y, centre_x = top + h / 2 + rng.uniform(-0.3, 0.3) * h, left + w / 2
    if side == 0:
        centre_x = left - clear
    elif side == 1:
        centre_x = left + w + clear
    else:
        centre_y = top - clear
    if rng.random() < 0.5:  # a dark lid shows through the hole
        page.disc(centre_y, centre_x, radius, rng.uniform(0.03, 0.25))
    else:  # a white lid: a light hole with its edge's shadow
        page.disc(centre_y, centre_x, radius, page.paper * rng.uniform(0.5, 0.75))
        page.disc(
            centre_y + 1, centre_x + 1, radius - rng.uniform(1, 2.5), min(1.0, page.paper + rng.uniform(0.02, 0.08))
        )
    page.write_digit(ink, top, left, _pen(rng))
    return _finished(page, rng)


def other28(digit: np.ndarray, rng: np.random.Generator, neighbours: np.ndarray) -> Rendered:
    """The digit's box scaled to 24-26 px tall (as wide as that makes it, 28 at most), centred by the box
    in 28x28, white on black: how several other digit data sets cut their crops. Lossless, unscanned."""
    rows, columns = np.flatnonzero(digit.max(axis=1) > 0), np.flatnonzero(digit.max(axis=0) > 0)
    box = digit[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1].astype(np.float32)
    height = int(rng.integers(24, 27))
    width = min(28, max(1, round(box.shape[1] * height / box.shape[0])))
    scaled = np.clip(
        np.asarray(Image.fromarray(box, mode="F").resize((width, height), Image.Resampling.BICUBIC)), 0, 255
    )
    crop = np.zeros((28, 28), np.float32)
    top, left = (28 - height) // 2, (28 - width) // 2
    crop[top : top + height, left : left + width] = scaled
    return Image.fromarray(np.rint(crop).astype(np.uint8)), None


RENDERERS: dict[str, Callable[[np.ndarray, np.random.Generator, np.ndarray], Rendered]] = {
    "ruled_through": ruled_through,
    "ruled_beside": ruled_beside,
    "squared": squared,
    "cell": cell,
    "register": register,
    "punched": punched,
    "other28": other28,
}
