"""Ruled lines, squared paper, table frames and cell borders: found, so that the digit is looked for without them.

A ruling is a straight band of ink, near horizontal or near vertical (a scan or a photo of a page is rarely
more than a few degrees off), that runs across most of the picture. It is taken out of the page by its own
level: ink absorbs light in layers, so a pen stroke over a ruling of level m (a low quantile along the line)
is (v - m) / (1 - m) of the page, and what is left of the ruling itself is paper. A crossing stroke stays
whole, and no stub of the ruling is left on the digit (a grid's faint lines are darker than a threshold in
some places, lighter in others: masking them left dotted pieces that stretched the digit's box). A digit's
own straight stroke (a 7's bar, a 2's base, a tight crop's 1) can look the same, so a band counts as a
ruling only when it runs on past the digit found without it, on both sides, or lies wholly beside it
(`beyond`): a ruling goes on across the page, a stroke ends at the digit.
numpy only, like localize.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_TILT = 6.0  # degrees either way from horizontal (vertical) that a ruling may run
TILT_STEP = 0.5
FINE_STEP = 0.05
LINE_SPAN = 0.6  # a ruling's ink covers at least this share of its length inside the picture
CORE = 0.5  # the band: neighbouring offsets with at least this share of the peak's coverage
MIN_ROOM = 0.15  # a line in a corner counts when at least this share of the picture's width is its room
EXTENT = 0.8  # and runs over at least this share of it, end to end (a tight crop's 1 may cover 0.6 of it)
RIM = 1  # offsets either side of the band that are its anti-aliased edge (it is found without them) ...
LEVEL_RIM = 2  # ... and offsets either side whose own level is taken out (none where the paper is clean)
SUBPIXELS = 4  # the level is taken in bins of a quarter pixel across: a tilted line crosses pixel rows
MIN_ALONE = 4  # pixels of a bin where nothing crosses the line, at least, to take its level from
MOST_GAIN = 2.5  # a stroke over a dark frame is brought back at most this much: the noise is brought up alike
THIN_ACROSS = 0.1  # a ruling is this thin beside the picture's other side too
RULED_LINES = "a ruled line, no digit"
FRAME_LINES = "ruled lines or a frame, no digit"
THIN = 0.1  # a ruling is at most this share of its length thick (3 px at least): a dark block or a bold
# digit's column of ink is not one
OVERHANG = 0.15  # a ruling runs on past the digit by this share of the digit's size, on both sides


@dataclass
class Band:
    """One ruling: where it lies across the picture, and where its ink starts and ends along it (a row or
    column index)."""

    first: int  # offsets across (across - along * slope, rounded) of its band, anti-aliased edges included
    last: int
    start: int
    end: int
    vertical: bool
    slope: float  # across per pixel along
    offset: float  # where it crosses the first row (column): across = offset + along * slope
    thickness: int  # pixels across, its anti-aliased edges left out

    def offsets(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Every pixel's offset across the ruling's direction (across - along * slope, unrounded) and its
        position along it."""
        rows, columns = np.indices(shape)
        along, across = (rows, columns) if self.vertical else (columns, rows)
        return across - along * self.slope, along

    def side(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """-1 or +1 per point: which side of the ruling (above/below, left/right) it lies on."""
        along, across = (rows, columns) if self.vertical else (columns, rows)
        return np.sign(across - (self.offset + along * self.slope))


@dataclass
class _Line:
    """A band as found, in its own orientation (a vertical one in the transposed mask)."""

    slope: float
    first: int  # offsets across the line, shifted by `shift`
    last: int
    shift: int
    start: int
    end: int
    vertical: bool


def rulings(ink: np.ndarray) -> list[Band]:
    """The rulings in an ink mask, horizontal and vertical; each looked for without the other way's, whose
    pixels would otherwise stretch a stroke's extent along them (a 1 crossing a page of ruled lines)."""
    rows = [_band(line) for line in _lines(ink, vertical=False)]
    columns = [_band(line) for line in _lines(ink.T & ~_pixels(rows, ink.shape).T, vertical=True)]
    if columns:
        rows = [_band(line) for line in _lines(ink & ~_pixels(columns, ink.shape), vertical=False)]
    return rows + columns


def _pixels(bands: list[Band], shape: tuple[int, int]) -> np.ndarray:
    """Every pixel of the bands, their anti-aliased edges with them."""
    mask = np.zeros(shape, bool)
    for band in bands:
        offsets, along = band.offsets(shape)
        mask |= (np.abs(offsets - (band.first + band.last) / 2) <= (band.last - band.first) / 2 + 0.5) & (
            (along >= band.start) & (along < band.end)
        )
    return mask


def taken_out(page: np.ndarray, bands: list[Band], strong: float, faint: float) -> np.ndarray:
    """The page (ink strength, 0 the paper) with each ruling's own level divided out along its band, over
    its length: pen strokes that cross it stay, the ruling becomes paper. On the band only `strong` ink is
    kept: what is left of a ruling beside a stroke (its level varies a little along it) would otherwise join
    the stroke by its faint ink and stretch the digit's box along the line."""
    clean = page.copy()
    for band in bands:
        offsets, along = band.offsets(page.shape)
        near = (offsets >= band.first - LEVEL_RIM - 0.5) & (offsets < band.last + LEVEL_RIM + 0.5)
        where = np.flatnonzero(near & (along >= band.start) & (along < band.end))
        values = clean.flat[where]
        bins = np.floor(offsets.flat[where] * SUBPIXELS).astype(np.int64)
        alone = ~_crossed(clean, band, faint)[along.flat[where]]
        level = _levels(values, bins, alone)
        gain = 1.0 / np.maximum(1.0 - level, 1.0 / MOST_GAIN)
        restored = np.clip((values - level) * gain, -1.0, 1.0)
        clean.flat[where] = np.where(restored >= strong, restored, np.minimum(restored, 0.0))
    return clean


def _crossed(page: np.ndarray, band: Band, faint: float) -> np.ndarray:
    """Per position along the band: does ink go on past it on either side (a stroke, a hole, another
    ruling crossing it)? There the band's pixels are not the ruling's alone."""
    length, breadth = (page.shape[0], page.shape[1]) if band.vertical else (page.shape[1], page.shape[0])
    along = np.arange(length)
    crossed = np.zeros(length, bool)
    for edge in (band.first - LEVEL_RIM - 1, band.last + LEVEL_RIM + 1):
        across = np.rint(edge + along * band.slope).astype(np.int64)
        inside = (across >= 0) & (across < breadth)
        clipped = np.clip(across, 0, breadth - 1)
        ink = page[along, clipped] if band.vertical else page[clipped, along]
        crossed |= inside & (ink > faint)
    return crossed


def _levels(values: np.ndarray, bins: np.ndarray, alone: np.ndarray) -> np.ndarray:
    """Each value's ruling level: the median of its bin (the pixels at the same distance across the line)
    where nothing crosses the line, at least 0; 0 (the line is left) where too little of it is alone."""
    levels = np.zeros(values.size)
    order = np.lexsort((values[alone], bins[alone]))
    kinds, starts, counts = np.unique(bins[alone][order], return_index=True, return_counts=True)
    medians = np.maximum(values[alone][order][starts + counts // 2], 0.0)
    medians[counts < MIN_ALONE] = 0.0
    found = np.isin(bins, kinds)
    levels[found] = medians[np.searchsorted(kinds, bins[found])]
    return levels


def only_rulings(bands: list[Band], shape: tuple[int, int]) -> str | None:
    """What to say when the picture's only ink is these bands: rulings, thin beside the picture (a tight
    crop's 1 is a band too, but a thick one beside its narrow picture, and is a digit)."""
    thin = [band.thickness <= THIN_ACROSS * shape[1 if band.vertical else 0] for band in bands]
    if not all(thin):
        return None
    kinds = {band.vertical for band in bands}
    return RULED_LINES if len(kinds) == 1 and len(bands) == 1 else FRAME_LINES


def beyond(band: Band, box: tuple[int, int, int, int]) -> bool:
    """Does the band run on past the digit's box (top, left, bottom, right) on both sides, or lie wholly
    beside it (a line running out through a corner of a tilted page)? Then it is a ruling; else it may be
    the digit's own stroke."""
    low, high = (box[0], box[2]) if band.vertical else (box[1], box[3])
    margin = OVERHANG * max(box[2] - box[0], box[3] - box[1])
    past_both = band.start <= low - margin and band.end >= high + margin
    return past_both or band.start >= high + margin or band.end <= low - margin


def _lines(ink: np.ndarray, vertical: bool) -> list[_Line]:
    """Near-horizontal bands of `ink` (a transposed mask gives the vertical ones). A line's share is of its
    own length inside the picture: a tilted page's lines run out through the top or bottom in a corner."""
    ys, xs = np.nonzero(ink)
    height, width = ink.shape
    if ys.size < LINE_SPAN * width:
        return []
    shift = int(np.ceil(width * np.tan(np.deg2rad(MAX_TILT)))) + 1  # offsets made non-negative
    slope, offsets, coverage = _best_tilt(ys, xs, height, width, shift)
    every_y, every_x = np.indices(ink.shape)
    room = np.bincount(np.rint(every_y - every_x * slope).astype(np.int64).ravel() + shift, minlength=coverage.size)
    share = np.where(room >= MIN_ROOM * width, coverage / np.maximum(room, 1), 0.0)
    found = []
    for first, last in _runs(share, LINE_SPAN, CORE):
        if last - first + 1 > max(3, THIN * width):
            continue
        first, last = first - RIM, last + RIM  # with the line's anti-aliased edges
        inside = (offsets >= first) & (offsets <= last)
        start, end = int(xs[inside].min()), int(xs[inside].max()) + 1
        if end - start < EXTENT * room[first : last + 1].max():
            continue
        found.append(_Line(slope, first, last, shift, start, end, vertical))
    return found


def _best_tilt(ys: np.ndarray, xs: np.ndarray, height: int, width: int, shift: int):
    """(slope, each pixel's offset across the lines, ink per offset) at the tilt whose ink is most
    concentrated on few offsets (the sum of squared counts: the tallest peak alone is blind to a thick
    band's tilt), in TILT_STEP steps, then in FINE_STEP steps within half a step of the best (a line off by a
    pixel over its length leaves half of itself behind when its level is taken out)."""

    def at(degrees: float):
        slope = float(np.tan(np.deg2rad(degrees)))
        offsets = np.rint(ys - xs * slope).astype(np.int64) + shift
        return slope, offsets, np.bincount(offsets, minlength=height + 2 * shift)

    def sharpness(degrees: float) -> float:
        return float(np.square(at(degrees)[2], dtype=np.float64).sum())

    rough = max(np.arange(-MAX_TILT, MAX_TILT + TILT_STEP / 2, TILT_STEP), key=sharpness)
    fine = np.arange(rough - TILT_STEP / 2, rough + TILT_STEP / 2 + FINE_STEP / 2, FINE_STEP)
    return at(max(fine[np.abs(fine) <= MAX_TILT + 1e-9], key=sharpness))


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


def _band(line: _Line) -> Band:
    first, last = line.first - line.shift, line.last - line.shift
    thickness = line.last - line.first + 1 - 2 * RIM
    return Band(first, last, line.start, line.end, line.vertical, line.slope, (first + last) / 2, thickness)
