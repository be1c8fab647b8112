"""Ruled lines, squared paper, table frames and cell borders: found, so that the digit is looked for without them.

A ruling is a straight band of ink, near horizontal or near vertical (a scan or a photo of a page is rarely
more than a few degrees off), that runs across most of the picture. Where a pen stroke crosses or touches
it, the band's pixels are the stroke's and stay. A digit's own straight stroke (a 7's bar, a 2's base, a
tight crop's 1) can look the same, so a band counts as a ruling only when it runs on past the digit found
without it, on both sides (`beyond`): a ruling goes on across the page, a stroke ends at the digit.
numpy only, like localize.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_TILT = 6.0  # degrees either way from horizontal (vertical) that a ruling may run
TILT_STEP = 0.5
LINE_SPAN = 0.6  # a ruling's ink covers at least this share of the picture's width (height) along it
CORE = 0.5  # the band: neighbouring offsets with at least this share of the peak's coverage
EXTENT = 0.8  # and runs over at least this share of it, end to end (a tight crop's 1 may cover 0.6 of it)
RIM = 1  # offsets either side of the band that are its anti-aliased edge
THIN_ACROSS = 0.1  # a ruling is this thin beside the picture's other side too
RULED_LINES = "a ruled line, no digit"
FRAME_LINES = "ruled lines or a frame, no digit"
THIN = 0.1  # a ruling is at most this share of its length thick (3 px at least): a dark block or a bold
# digit's column of ink is not one
REACH = 1  # a stroke crossing a ruling goes on at least this many pixels past its band ...
OVERHANG = 0.15  # ... and a ruling runs on past the digit by this share of the digit's size, on both sides


@dataclass
class Band:
    """One ruling: its pixels, and where its ink starts and ends along it (a row or column index)."""

    pixels: np.ndarray  # bool mask of the band's pixels that are the ruling's alone (no stroke crossing)
    start: int
    end: int
    vertical: bool
    slope: float  # across per pixel along
    offset: float  # where it crosses the first row (column): across = offset + along * slope
    thickness: int  # pixels across, its anti-aliased edges left out

    def side(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """-1 or +1 per point: which side of the ruling (above/below, left/right) it lies on."""
        along, across = (rows, columns) if self.vertical else (columns, rows)
        return np.sign(across - (self.offset + along * self.slope))


@dataclass
class _Line:
    """A band as found, in its own orientation (a vertical one in the transposed mask)."""

    core: np.ndarray  # bool, every pixel of the band
    slope: float
    first: int  # offsets across the line, shifted by `shift`
    last: int
    shift: int
    start: int
    end: int
    vertical: bool


def rulings(ink: np.ndarray) -> list[Band]:
    """The rulings in an ink mask, horizontal and vertical. A stroke that crosses one keeps its pixels there,
    judged on the ink without any ruling: where two rulings cross, neither is a stroke."""
    lines = _lines(ink, vertical=False) + _lines(ink.T, vertical=True)
    rest = ink.copy()
    for line in lines:
        rest &= ~(line.core.T if line.vertical else line.core)
    return [_band(line, rest.T if line.vertical else rest) for line in lines]


def only_rulings(bands: list[Band], shape: tuple[int, int]) -> str | None:
    """What to say when the picture's only ink is these bands: rulings, thin beside the picture (a tight
    crop's 1 is a band too, but a thick one beside its narrow picture, and is a digit)."""
    thin = [band.thickness <= THIN_ACROSS * shape[1 if band.vertical else 0] for band in bands]
    if not all(thin):
        return None
    kinds = {band.vertical for band in bands}
    return RULED_LINES if len(kinds) == 1 and len(bands) == 1 else FRAME_LINES


def beyond(band: Band, box: tuple[int, int, int, int]) -> bool:
    """Does the band run on past the digit's box (top, left, bottom, right) on both sides? Then it is a ruling;
    else it may be the digit's own stroke."""
    low, high = (box[0], box[2]) if band.vertical else (box[1], box[3])
    margin = OVERHANG * max(box[2] - box[0], box[3] - box[1])
    return band.start <= low - margin and band.end >= high + margin


def _lines(ink: np.ndarray, vertical: bool) -> list[_Line]:
    """Near-horizontal bands of `ink` (a transposed mask gives the vertical ones)."""
    ys, xs = np.nonzero(ink)
    height, width = ink.shape
    if ys.size < LINE_SPAN * width:
        return []
    shift = int(np.ceil(width * np.tan(np.deg2rad(MAX_TILT)))) + 1  # offsets made non-negative
    slope, offsets, coverage = _best_tilt(ys, xs, height, width, shift)
    found = []
    for first, last in _runs(coverage, LINE_SPAN * width, CORE):
        if last - first + 1 > max(3, THIN * width):
            continue
        first, last = first - RIM, last + RIM  # with the line's anti-aliased edges
        inside = (offsets >= first) & (offsets <= last)
        start, end = int(xs[inside].min()), int(xs[inside].max()) + 1
        if end - start < EXTENT * width:
            continue
        core = np.zeros(ink.shape, bool)
        core[ys[inside], xs[inside]] = True
        found.append(_Line(core, slope, first, last, shift, start, end, vertical))
    return found


def _best_tilt(ys: np.ndarray, xs: np.ndarray, height: int, width: int, shift: int):
    """(slope, each pixel's offset across the lines, ink per offset) at the tilt whose lines are sharpest."""
    best = None
    for degrees in np.arange(-MAX_TILT, MAX_TILT + TILT_STEP / 2, TILT_STEP):
        slope = float(np.tan(np.deg2rad(degrees)))
        offsets = np.rint(ys - xs * slope).astype(np.int64) + shift
        coverage = np.bincount(offsets, minlength=height + 2 * shift)
        if best is None or coverage.max() > best[2].max():
            best = (slope, offsets, coverage)
    return best


def _runs(coverage: np.ndarray, least: float, core: float) -> list[tuple[int, int]]:
    """Runs of neighbouring offsets around each peak of at least `least`, down to `core` of the peak."""
    runs = []
    for peak in np.flatnonzero(coverage >= least):
        if runs and runs[-1][0] <= peak <= runs[-1][1]:
            continue
        floor = core * coverage[peak]
        first, last = peak, peak
        while first > 0 and coverage[first - 1] >= floor:
            first -= 1
        while last + 1 < coverage.size and coverage[last + 1] >= floor:
            last += 1
        runs.append((first, last))
    return runs


def _band(line: _Line, rest: np.ndarray) -> Band:
    """The line's pixels less the columns where a stroke goes on past it (REACH pixels, above or below)."""
    columns = np.arange(line.core.shape[1])
    height = line.core.shape[0]

    def inked(offset: int) -> np.ndarray:
        rows = np.rint(offset - line.shift + columns * line.slope).astype(np.int64)
        inside = (rows >= 0) & (rows < height)
        return inside & rest[np.clip(rows, 0, height - 1), columns]

    above = np.logical_and.reduce([inked(line.first - step) for step in range(1, REACH + 1)])
    below = np.logical_and.reduce([inked(line.last + step) for step in range(1, REACH + 1)])
    pixels = line.core & ~(above | below)[None, :]
    centre = (line.first + line.last) / 2 - line.shift
    thickness = line.last - line.first + 1 - 2 * RIM
    return Band(
        pixels.T if line.vertical else pixels, line.start, line.end, line.vertical, line.slope, centre, thickness
    )
