"""Find the digit in a photo or scan, and frame it as MNIST framed its digits.

The steps, each a function below:
  1. a working copy 112-800 pixels long (a big photo holds no more digit than that; an 8x8 crop
     is enlarged smoothly so that its strokes span several pixels);
  2. polarity from the page: ink is the minority, the heavier tail away from the page's own level
     (a smooth surface fitted to the majority); when neither tail is heavier, the border is paper.
     --invert/--no-invert force it;
  3. background removal: the lighting (a quadratic surface fitted to the paper's side) is divided out
     (light paper: ink is the share of light it absorbs, whatever the lighting) or subtracted (dark
     page), then what is left of the paper's shade, a morphological closing wider than the strokes;
  4. Otsu's threshold, computed near the ink so that a small digit on a big page is not drowned
     by paper noise, and hysteresis down to the noise floor so that faint parts of a stroke stay;
  5. connected components: specks, page edges, the desk and frames are left out; the digit is the
     heaviest, most central one, with the pieces of a broken stroke near it. Then a second look with
     the paper's filter a few of the digit's own strokes wide (a shadow's band then is paper);
  6. MNIST's normalisation: the pen's width brought into MNIST's range, the digit's extent scaled
     into 20x20 keeping its aspect ratio, grey levels from the background-removed page (a typical
     stroke = white), placed by centre of mass.
numpy and Pillow only: the base install stays onnxruntime, numpy, Pillow and Typer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from .images import centred_by_mass, to_gray, upright
from .rulings import beyond, only_rulings, rulings
from .spec import IMAGE_SIDE

WORK_SIDE = 512  # analysis at most this long: as accurate as 800 on the rendered photos, twice as fast
MIN_WORK_SIDE = 112  # and at least this long: four times MNIST's 28
GRID_SIDE = 64  # the paper's level is estimated on a grid this long ...
CLOSING_SPAN = 0.3  # ... by a closing this share of the longer side: wider than the thickest stroke, at first;
STROKES_PER_SPAN = 5  # then this many of the digit's own strokes wide
NOISE_SIGMAS = 4.0  # ink starts this many noise deviations above the paper ...
MIN_CONTRAST = 0.04  # ... and never less than 4% darker than the paper (lighter, on a dark page)
MIN_STROKE = 0.1  # a digit's typical stroke is at least 10% darker than the paper (lighter on a dark page)
MIN_DIGIT = 0.04  # a digit spans at least this share of the image's shorter side
SPECK = 0.05  # components under this share of the heaviest one's strong ink are specks
MERGE_GAP = 0.25  # pieces within this share of the digit's size belong to it (a broken 5 or 7)
DOT = 0.2  # a full stop is at most this share of the digit's size
SOLID = 0.7  # ink that fills this share of its box ...
ACROSS = 0.9  # ... and runs across this share of the picture is a block of paper (a strip), not strokes,
STRIP_INPUT = 32  # in a picture at least this many pixels across: a smaller one is a crop of the digit alone
BLOCK_ACROSS = "a solid block across the picture, no digit (a strip of paper or a shadow?)"
MNIST_BOX = 20
VISIBLE = 0.1  # ink at a tenth of a stroke's level is part of the digit's extent (MNIST: any grey)
MNIST_STROKE = (1.64, 2.33)  # px at the 20x20 scale: the middle half of MNIST's training digits' strokes


@dataclass
class Steps:
    """What localisation saw and did, for `aeonnx inspect` and for the digit itself."""

    page: np.ndarray  # float32 [0, 1], the working copy after background removal: white ink on black
    box: tuple[int, int, int, int] | None  # (top, left, bottom, right), bottom/right exclusive, in `page`
    digit: np.ndarray  # uint8 28x28: what compress encodes
    light_background: bool  # the page was light (dark ink): inverted
    scale: float  # page pixels per input pixel
    concern: str | None = None  # what was found that is not a digit (only rulings, a block): the warning


@dataclass
class Components:
    """Connected ink, one entry per component: sizes, bounding boxes of strong ink, border contact."""

    labels: np.ndarray  # int per pixel, -1 off the ink
    strong_area: np.ndarray
    strong_mass: np.ndarray
    boxes: np.ndarray  # [n, 4] top, left, bottom, right (exclusive) of the strong pixels
    edge_like: np.ndarray  # bool: runs along one side of the image (page edge, desk, shadow band)
    encircling: np.ndarray  # bool: runs along three or four sides (dark corners; or a 0 filling a tight crop)
    touches_border: np.ndarray


def locate_steps(image: Image.Image, invert: bool | None = None) -> Steps:
    """Any picture -> the located, MNIST-framed digit and the intermediate steps. A blank page gives black."""
    gray, scale = working_copy(to_gray(upright(image)))
    found, light = _located(gray, invert)
    if found.box is not None and min(image.size) >= STRIP_INPUT and _solid(found):
        # A solid block is no digit: a strip of paper between a book's dark edge and a dark table passes for
        # ink on a page taken as dark. The polarity that counts is the region's around the digit: look inside.
        inner = _inside(gray, found.box) if invert is None else None
        found, light = inner or (replace(found, concern=BLOCK_ACROSS), light)
    if found.box is None:
        return Steps(found.levels, None, np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.uint8), light, scale, found.concern)
    return Steps(found.levels, found.box, frame(even_strokes(found)), light, scale, found.concern)


def _located(gray: np.ndarray, invert: bool | None) -> tuple[Found, bool]:
    """The digit in a working copy: polarity, the paper's lighting, two searches (Found, light paper?)."""
    coarse = _coarse(gray)
    light = looks_light(gray, _upsampled(_lighting(coarse), gray.shape)) if invert is None else invert
    light_field = _upsampled(_paper_lighting(coarse, light), gray.shape)
    found = search(gray, light_field, light, CLOSING_SPAN)
    # The paper's filter should be a few strokes wide: narrower, the pen's strokes are eaten; wider,
    # a shadow's band or a dark corner passes for ink. The first look measured the pen: look again.
    span = STROKES_PER_SPAN * found.stroke_width / max(gray.shape) if found.box is not None else 1.0
    span = float(np.clip(span, 0.0, 1.0))
    if not 0.67 < span / CLOSING_SPAN < 1.5:
        again = search(gray, light_field, light, span)
        # The second look refines the first: it may drop a shadow joined to the digit, but a digit found
        # elsewhere (the rim of a page on a desk, once the desk passes for paper) is not a refinement.
        if again.box is not None and (found.box is None or _share_inside(again.box, found.box) >= 0.5):
            found = again
    return found, light


def _solid(found: Found) -> bool:
    """Is the found ink a block of paper across the picture (a strip from edge to edge), not strokes?"""
    top, left, bottom, right = found.box
    height, width = found.levels.shape
    across = max((bottom - top) / height, (right - left) / width) >= ACROSS
    return across and float(found.selected[top:bottom, left:right].mean()) >= SOLID


def _inside(gray: np.ndarray, box: tuple[int, int, int, int]) -> tuple[Found, bool] | None:
    """The digit inside a block, looked for in the block alone; None when what is there is no digit either."""
    top, left, bottom, right = box
    if min(bottom - top, right - left) < MIN_WORK_SIDE // 4:
        return None
    found, light = _located(gray[top:bottom, left:right], None)
    if found.box is None or _solid(found) or not light:  # inside a strip of paper: dark ink on light
        return None
    levels = np.zeros(gray.shape, np.float32)
    levels[top:bottom, left:right] = found.levels
    selected = np.zeros(gray.shape, bool)
    selected[top:bottom, left:right] = found.selected
    inner = found.box
    moved = (inner[0] + top, inner[1] + left, inner[2] + top, inner[3] + left)
    return Found(levels, selected, moved, found.stroke_width, found.concern), light


@dataclass
class Found:
    """One search for the digit: the page's ink levels, and the digit's pixels and box (None: nothing)."""

    levels: np.ndarray  # float32 [0, 1]: 0 the paper, 1 a typical stroke of the digit
    selected: np.ndarray | None = None  # the digit's pixels
    box: tuple[int, int, int, int] | None = None
    stroke_width: float = 0.0
    concern: str | None = None  # what was found instead of a digit (rulings), for the warning


def search(gray: np.ndarray, light_field: np.ndarray, light: bool, span: float) -> Found:
    """Background removal with a paper filter `span` of the longer side wide, thresholds, components."""
    page = remove_background(gray, light_field, light, span)
    threshold, low = ink_thresholds(page)
    if threshold is None:
        return Found(np.clip(page, 0.0, 1.0))
    selected, box, concern = find_digit_past_rulings(page, threshold, low)
    if selected is None:
        return Found(np.clip(page, 0.0, 1.0))
    strong = selected & (page >= threshold)
    stroke = float(np.median(page[strong]))
    if stroke < max(MIN_STROKE, 2 * low):  # a clump of paper noise (grain, JPEG blocks): a blank page
        return Found(np.clip(page, 0.0, 1.0))
    levels = np.clip((page - low) / max(stroke - low, 1e-6), 0.0, 1.0).astype(np.float32)
    return Found(levels, selected, box, stroke_width(strong), concern)


def stroke_width(mask: np.ndarray) -> float:
    """A stroke's mean width in pixels: twice its area over its outline's length (w for a w x L stroke)."""
    outline = (
        np.count_nonzero(mask[:, 1:] != mask[:, :-1])
        + np.count_nonzero(mask[1:] != mask[:-1])
        + np.count_nonzero(mask[0])
        + np.count_nonzero(mask[-1])
        + np.count_nonzero(mask[:, 0])
        + np.count_nonzero(mask[:, -1])
    )
    return 2.0 * np.count_nonzero(mask) / max(outline, 1)


def even_strokes(found: Found) -> np.ndarray:
    """The digit cut out, with the pen's width brought into MNIST's range at the 20x20 scale.

    A ballpoint digit shrunk to 20x20 is a faint hairline, a marker's a blob; the middle half of MNIST's
    training digits have strokes 1.64-2.33 px wide there (measured as stroke_width does).
    """
    top, left, bottom, right = found.box
    scale = MNIST_BOX / max(bottom - top, right - left)
    target = np.clip(found.stroke_width * scale, *MNIST_STROKE) / scale
    radius = int(round((target - found.stroke_width) / 2))
    pad = max(radius, 0) + int(np.ceil(2 / scale)) + 1  # room for the thicker stroke and the anti-aliased rim
    ink = np.where(found.selected, found.levels, 0.0)
    ink = ink[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad]
    if radius > 0:
        ink = _max_filter(ink, 2 * radius + 1)
    elif radius < 0:
        ink = _min_filter(ink, 2 * -radius + 1)
    return ink.astype(np.float32)


def working_copy(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The image between MIN_WORK_SIDE and WORK_SIDE pixels long, and its scale (working px per input px).

    Big photos are area-averaged down; small crops (an 8x8 or 16x16 digit) are enlarged smoothly, so
    that strokes span several pixels for the thresholds, the components and the pen's width.
    """
    height, width = gray.shape
    longest = max(height, width)
    scale = WORK_SIDE / longest if longest > WORK_SIDE else MIN_WORK_SIDE / longest if longest < MIN_WORK_SIDE else 1.0
    if scale == 1.0:
        return gray, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC
    return np.clip(_resized(gray, size, method), 0.0, 1.0), scale


def looks_light(gray: np.ndarray, light_field: np.ndarray) -> bool:
    """Light paper with dark ink? Ink is the minority: the heavier tail away from the page's own level.

    `light_field`, the page's level, is a smooth surface fitted to the majority of pixels, so uneven
    light cancels; a desk or a shadow beyond the page is darker, on the same side as dark ink. When
    neither tail is clearly heavier (a bold digit filling a tight crop: ink is half of it), the border
    decides, as it is mostly paper there.
    """
    residual = gray - light_field
    spread = 1.4826 * float(np.median(np.abs(_sample(residual)))) + 1e-3  # robust noise level (MAD)
    darker = float(np.clip(-residual - 3 * spread, 0, None).sum())
    lighter = float(np.clip(residual - 3 * spread, 0, None).sum())
    if abs(darker - lighter) >= 0.5 * (darker + lighter) > 0:
        return darker > lighter
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    low, high = np.percentile(_sample(gray), [2, 98])
    return bool(np.median(border) > (low + high) / 2)


def _lighting(coarse: np.ndarray, rounds: int = 4) -> np.ndarray:
    """A quadratic surface fitted to the majority of pixels (outliers, i.e. ink, left out round by round)."""
    basis, values = _quadratic_basis(coarse.shape), coarse.ravel()
    centre = float(np.median(values))  # first the majority around the median, then the surface through it
    keep = np.abs(values - centre) <= 2.5 * 1.4826 * float(np.median(np.abs(values - centre))) + 1e-3
    for _ in range(rounds):
        surface = _fitted(basis, values, keep)
        residual = values - surface
        centre = float(np.median(residual[keep]))
        spread = 1.4826 * float(np.median(np.abs(residual[keep] - centre)))
        keep = np.abs(residual - centre) <= 2.5 * spread + 1e-3
    return surface.reshape(coarse.shape).astype(np.float32)


def _paper_lighting(coarse: np.ndarray, light: bool, rounds: int = 5) -> np.ndarray:
    """The paper's lighting: a quadratic surface fitted to the paper's side only (above ink on light paper,
    below it on a dark page), so that even a bold digit covering half of a tight crop does not bend it."""
    values = (1.0 - coarse if light else coarse).ravel()  # ink above the paper, as on a dark page
    basis = _quadratic_basis(coarse.shape)
    surface = np.full(values.size, float(np.percentile(values, 25)), np.float32)
    for _ in range(rounds):
        residual = values - surface
        below = residual <= 0
        noise = 1.4826 * float(np.median(np.abs(residual[below]))) if below.any() else 0.0
        surface = _fitted(basis, values, residual <= 2.0 * noise + 0.01)  # the paper and its noise, not ink
    surface = surface.reshape(coarse.shape).astype(np.float32)
    return 1.0 - surface if light else surface


def _quadratic_basis(shape: tuple[int, int]) -> np.ndarray:
    height, width = shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    y, x = (y / height - 0.5).ravel(), (x / width - 0.5).ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


def _fitted(basis: np.ndarray, values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The least-squares surface through values[keep], everywhere; by the 6x6 normal equations, which
    spares starting a multi-threaded solver on a busy machine."""
    chosen = basis[keep]
    return basis @ np.linalg.lstsq(chosen.T @ chosen, chosen.T @ values[keep], rcond=None)[0]


def remove_background(gray: np.ndarray, light_field: np.ndarray, light: bool, span: float = CLOSING_SPAN) -> np.ndarray:
    """Ink strength, white on black (paper about 0, noise either side), lighting and paper shade taken out.

    First the smooth lighting (`light_field`) is divided out (light paper: ink is the share of light it
    absorbs) or subtracted (dark page); then what is left of the paper's level, a closing (opening on a
    dark page) `span` of the longer side wide on a coarse grid: ink narrower than that is not paper.
    """
    flat = gray / np.maximum(light_field, 1e-3) if light else gray - light_field
    coarse = _coarse(flat)
    size = max(3, int(span * max(coarse.shape)) | 1)
    if light:
        paper = _upsampled(_smoothed(_min_filter(_max_filter(coarse, size), size)), gray.shape)
        page = 1.0 - flat / np.maximum(paper, 1e-3)
    else:
        floor = _upsampled(_smoothed(_max_filter(_min_filter(coarse, size), size)), gray.shape)
        page = flat - floor
    return np.clip(page, -1.0, 1.0).astype(np.float32)


def ink_thresholds(page: np.ndarray) -> tuple[float | None, float]:
    """(Otsu's threshold near the ink, the noise floor); (None, floor) when nothing stands out of the noise.

    Strong ink is above Otsu's threshold; the faint parts of a stroke (a pencil's, or a low-resolution
    scan's) count when they rise above the noise floor and join strong ink: hysteresis.
    """
    # Noise from neighbours' differences (ink edges are few, noise is everywhere); the paper's level from
    # the darkest fifth, since a bold digit in a tight crop can cover more than half of it.
    sample = _sample(page)
    rows = page[:: max(1, page.shape[0] // sample.shape[0])]
    noise = 1.0484 * float(np.median(np.abs(np.diff(rows, axis=1)))) if page.shape[1] > 1 else 0.0
    level = float(np.percentile(sample, 20)) + 0.84 * noise
    floor = level + max(NOISE_SIGMAS * noise, MIN_CONTRAST)
    candidates = page > floor
    if np.count_nonzero(candidates) < 4:
        return None, floor
    near = _max_filter(candidates.astype(np.float32), 5) > 0  # the ink and the paper right around it
    threshold = max(otsu(np.clip(page[near], 0.0, 1.0)), floor)
    return threshold, floor


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that best splits `values` (in [0, 1]) into two classes (Otsu, 1979)."""
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    weights = counts.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(weights)
    below_sum = np.cumsum(weights * centres)
    total, total_sum = below[-1], below_sum[-1]
    above = total - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (below_sum * total - total_sum * below) ** 2 / (below * above)
    between[~np.isfinite(between)] = -1
    return float(edges[int(np.argmax(between)) + 1])


def find_digit(page: np.ndarray, threshold: float, low: float, bands=()) -> tuple[np.ndarray | None, tuple | None]:
    """The digit's pixels (a mask) and its strong ink's bounding box; (None, None) if there is none.
    `bands`: rulings, which part the digit from its neighbours' writing (rulings.Band)."""
    parts = components(page, threshold, low)
    inked = parts.strong_area > 0
    if not inked.any():
        return None, None
    strokes = inked & ~parts.edge_like & ~parts.encircling  # specks are small beside the largest of these
    inked &= parts.strong_area >= SPECK * parts.strong_area[strokes if strokes.any() else inked].max()
    chosen = cluster(parts, inked, page.shape, bands)
    if not chosen.any():
        return None, None  # only edges: the desk or a shadow beyond a blank page
    boxes = parts.boxes[chosen]
    box = (int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max()))
    if max(box[2] - box[0], box[3] - box[1]) < MIN_DIGIT * min(page.shape):
        return None, None  # a speck of dust or a clump of noise on a blank page
    selected = np.isin(parts.labels, np.flatnonzero(chosen))
    return selected, box


def find_digit_past_rulings(page: np.ndarray, threshold: float, low: float):
    """find_digit on the page less its rulings (ruled lines, frames, cell borders: see rulings.py): (mask,
    box, what to warn of). A band that does not run on past the digit found without the bands is the digit's
    own stroke, and is put back; when the bands are all the ink there is, they are what is framed, and said."""
    bands = rulings(page > low)
    if not bands:
        return (*find_digit(page, threshold, low), None)
    selected, box = find_digit(_without(page, bands), threshold, low, bands)
    if box is None:
        return (*find_digit(page, threshold, low), only_rulings(bands, page.shape))
    ruled = [band for band in bands if beyond(band, box)]
    if len(ruled) < len(bands):
        selected, box = find_digit(_without(page, ruled), threshold, low, ruled)
    return selected, box, None


def _without(page: np.ndarray, bands) -> np.ndarray:
    clean = page.copy()
    for band in bands:
        clean[band.pixels] = 0.0
    return clean


def cluster(parts: Components, inked: np.ndarray, shape: tuple[int, int], bands=()) -> np.ndarray:
    """The seed (heavy, central, off the border, not an edge or a frame) and the pieces near it.

    Edges (runs along the border) are left out, unless the digit fills the image: in a tight crop a 2's
    base or a 5's back lies along the border, and a 0 may touch all four sides.
    """
    height, width = shape
    tall, wide = parts.boxes[:, 2] - parts.boxes[:, 0], parts.boxes[:, 3] - parts.boxes[:, 1]
    centre_y = (parts.boxes[:, 0] + parts.boxes[:, 2]) / 2 / height - 0.5
    centre_x = (parts.boxes[:, 1] + parts.boxes[:, 3]) / 2 / width - 0.5
    # A sparse outline around most of the image: the rim of a page lying on a desk, or a drawn frame.
    frame = (tall > 0.6 * height) & (wide > 0.6 * width) & (parts.strong_area < 0.05 * tall * wide)
    score = parts.strong_mass / (1 + 4 * (centre_y**2 + centre_x**2))
    score *= np.where(parts.touches_border, 0.5, 1.0) * np.where(frame, 0.1, 1.0)
    # Something that runs around the border is a digit only when nothing else is: a 0 filling its crop.
    seeds = inked & ~parts.edge_like & ~parts.encircling
    seeds = seeds if seeds.any() else inked & ~parts.edge_like
    if not seeds.any():
        return seeds
    seed = int(np.argmax(np.where(seeds, score, -1)))
    size = max(tall[seed], wide[seed])
    fills_image = tall[seed] >= 0.5 * height or wide[seed] >= 0.5 * width
    # Pieces of the same digit are near it, not much larger than it, not a full stop after it, and not
    # cut by the picture's edge across a ruling (a neighbouring cell's writing).
    usable = (inked if fills_image else seeds) & (np.maximum(tall, wide) <= 1.5 * size)
    usable &= (_same_cell(parts.boxes, seed, bands) | ~parts.touches_border) & ~_dots_beside(parts, seed, size)
    chosen = np.zeros(len(usable), bool)
    chosen[seed] = True
    box = parts.boxes[seed].copy()
    while True:
        gap_y = np.maximum(box[0] - parts.boxes[:, 2], parts.boxes[:, 0] - box[2])
        gap_x = np.maximum(box[1] - parts.boxes[:, 3], parts.boxes[:, 1] - box[3])
        near = usable & ~chosen & (np.maximum(gap_y, gap_x) <= MERGE_GAP * size)
        if not near.any():
            return chosen
        chosen |= near
        box = np.array(
            [
                parts.boxes[chosen, 0].min(),
                parts.boxes[chosen, 1].min(),
                parts.boxes[chosen, 2].max(),
                parts.boxes[chosen, 3].max(),
            ]
        )


def _same_cell(boxes: np.ndarray, seed: int, bands) -> np.ndarray:
    """Which components lie on the seed's side of every ruling (by their boxes' centres)."""
    rows, columns = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    same = np.ones(len(boxes), bool)
    for band in bands:
        sides = band.side(rows, columns)
        same &= sides == sides[seed]
    return same


def _dots_beside(parts: Components, seed: int, size: int) -> np.ndarray:
    """Full stops: small, solid, round-ish specks wholly outside the seed's box (a broken stroke is longer)."""
    boxes = parts.boxes
    tall, wide = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    small = (np.maximum(tall, wide) <= DOT * size) & (
        np.maximum(tall, wide) <= 2 * np.maximum(np.minimum(tall, wide), 1)
    )
    solid = parts.strong_area >= 0.5 * tall * wide
    top, left, bottom, right = boxes[seed]
    outside = (boxes[:, 0] >= bottom) | (boxes[:, 2] <= top) | (boxes[:, 1] >= right) | (boxes[:, 3] <= left)
    return small & solid & outside


def components(page: np.ndarray, threshold: float, low: float) -> Components:
    """The 8-connected components of the ink above `low`, described by their ink above `threshold`."""
    labels, count = label(page > low)
    on = labels >= 0
    rows, columns = np.nonzero(on)
    which = labels[on]
    strong = page[on] >= threshold
    strong_area = np.bincount(which, weights=strong, minlength=count)
    strong_mass = np.bincount(which, weights=np.where(strong, page[on], 0.0), minlength=count)
    boxes = np.zeros((count, 4), np.int64)
    boxes[:, 0], boxes[:, 1] = page.shape
    np.minimum.at(boxes[:, 0], which[strong], rows[strong])
    np.minimum.at(boxes[:, 1], which[strong], columns[strong])
    np.maximum.at(boxes[:, 2], which[strong], rows[strong] + 1)
    np.maximum.at(boxes[:, 3], which[strong], columns[strong] + 1)
    edge_like, encircling, touches = _border_contact(labels, count, boxes, page.shape)
    return Components(labels, strong_area, strong_mass, boxes, edge_like, encircling, touches)


def _border_contact(labels: np.ndarray, count: int, boxes: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """Which components are edges rather than strokes: those that run along a side (over half of it)
    and stay near it; which run along three sides or four; and which touch the border at all.

    A stroke that meets the border crosses it (a tight crop's 1 touches top and bottom); a page's
    edge, the desk beyond it or a shadow's band lies along it.
    """
    height, width = shape
    edge_like, touches, sides_along = np.zeros(count, bool), np.zeros(count, bool), np.zeros(count, int)
    spans = {"rows": boxes[:, 2] - boxes[:, 0], "columns": boxes[:, 3] - boxes[:, 1]}
    sides = (
        (labels[0], boxes[:, 2], "columns", width, height),  # (border line, depth from it, ...)
        (labels[-1], height - boxes[:, 0], "columns", width, height),
        (labels[:, 0], boxes[:, 3], "rows", height, width),
        (labels[:, -1], width - boxes[:, 1], "rows", height, width),
    )
    for line, depth, along_axis, length, across in sides:
        contact = np.bincount(line[line >= 0], minlength=count)
        touches |= contact > 0
        along = contact > 0.5 * length
        hugging = (spans[along_axis] > 0.6 * length) & (depth <= 0.15 * across)  # touching or a little inside
        edge_like |= (along & (depth <= 0.35 * across)) | hugging
        sides_along += along
    return edge_like, sides_along >= 3, touches


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a boolean mask: (labels, -1 off the mask; count), in numpy only.

    Union-find in bulk: every root hooks onto the smallest root it touches, then pointers jump to
    their roots; a few rounds join any shape.
    """
    height, width = mask.shape
    index = np.full(mask.shape, -1, np.int64)
    on = np.flatnonzero(mask)
    index.flat[on] = np.arange(on.size)
    here, there = [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = index[: height - dy, max(0, -dx) : width - max(0, dx)]
        b = index[dy:, max(0, dx) : width - max(0, -dx)]
        both = (a >= 0) & (b >= 0)
        here.append(a[both]), there.append(b[both])
    first, second = np.concatenate(here), np.concatenate(there)
    parent = np.arange(on.size)
    while first.size:
        root_a, root_b = parent[first], parent[second]
        apart = root_a != root_b
        first, second, root_a, root_b = first[apart], second[apart], root_a[apart], root_b[apart]
        if not first.size:
            break  # every edge joins pixels already in one tree (edges found joined are not looked at again)
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while not np.array_equal(parent[parent], parent):
            parent = parent[parent]
    roots, compact = np.unique(parent, return_inverse=True)
    labels = np.full(mask.shape, -1, np.int64)
    labels.flat[on] = compact
    return labels, len(roots)


def frame(ink: np.ndarray) -> np.ndarray:
    """MNIST's normalisation: the digit's extent scaled into 20x20 (aspect kept), its centre of mass at
    the centre of 28x28. As in MNIST, the extent includes the strokes' anti-aliased rim (VISIBLE)."""
    visible = ink >= VISIBLE
    if not visible.any():
        return np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    rows, columns = np.flatnonzero(visible.any(axis=1)), np.flatnonzero(visible.any(axis=0))
    crop = np.where(visible, ink, 0.0)[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = MNIST_BOX / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = np.clip(_resized(crop, size, Image.Resampling.LANCZOS), 0.0, None)  # Lanczos rings below 0
    peak = float(small.max())
    if peak > 0:
        small = small / peak  # MNIST's strokes reach full white, however faint the pen
    digit = centred_by_mass(np.clip(small, 0.0, 1.0))
    return np.clip(np.rint(digit * 255.0), 0, 255).astype(np.uint8)


def _share_inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> float:
    """The share of `box`'s area that lies inside `outer`."""
    tall = min(box[2], outer[2]) - max(box[0], outer[0])
    wide = min(box[3], outer[3]) - max(box[1], outer[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return max(tall, 0) * max(wide, 0) / max(area, 1)


def _coarse(gray: np.ndarray) -> np.ndarray:
    """The image area-averaged onto a grid at most GRID_SIDE long."""
    height, width = gray.shape
    scale = min(1.0, GRID_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return _resized(gray, size, Image.Resampling.BOX)


def _max_filter(values: np.ndarray, size: int) -> np.ndarray:
    return _rank_filter(values, size, np.maximum)


def _min_filter(values: np.ndarray, size: int) -> np.ndarray:
    return _rank_filter(values, size, np.minimum)


def _rank_filter(values: np.ndarray, size: int, pick) -> np.ndarray:
    """A square max or min filter (`pick` np.maximum or np.minimum), separable, edges repeated.

    One whole-array operation per offset: fast in numpy for the small sizes used here.
    """
    half = size // 2
    rows = np.pad(values, ((half, half), (0, 0)), mode="edge")
    result = rows[: values.shape[0]]
    for offset in range(1, size):
        result = pick(result, rows[offset : offset + values.shape[0]])
    columns = np.pad(result, ((0, 0), (half, half)), mode="edge")
    result = columns[:, : values.shape[1]]
    for offset in range(1, size):
        result = pick(result, columns[:, offset : offset + values.shape[1]])
    return result


def _sample(values: np.ndarray, most: int = 60_000) -> np.ndarray:
    """Every k-th pixel each way, at most about `most` of them: enough for a median or a percentile."""
    step = max(1, int(np.sqrt(values.size / most)))
    return values[::step, ::step]


def _smoothed(values: np.ndarray) -> np.ndarray:
    """A 3x3 box blur, twice: the closing's plateaus become smooth light."""
    for _ in range(2):
        padded = np.pad(values, 1, mode="edge")
        values = (
            sum(padded[dy : dy + values.shape[0], dx : dx + values.shape[1]] for dy in range(3) for dx in range(3))
            / 9.0
        )
    return values


def _upsampled(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return _resized(values, (shape[1], shape[0]), Image.Resampling.BILINEAR)


def _resized(values: np.ndarray, size: tuple[int, int], method) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(image.resize(size, method), dtype=np.float32)
