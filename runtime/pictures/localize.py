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
  5. the page's rulings (ruled and squared lines, frames, cell borders: rulings.py) taken out by their
     own level, so that strokes crossing them stay whole; then
     connected components (strokes.py): specks, page edges, the desk and frames are left out; the
     digit is the heaviest, most central one, with the pieces of a broken stroke near it, not a
     neighbour's writing across a ruling or a full stop. Then a second look with the paper's filter a
     few of the digit's own strokes wide (a shadow's band then is paper); a block across the picture
     (a strip of paper on a page read as dark) is looked inside, with its own polarity;
  6. MNIST's normalisation: the pen's width brought into MNIST's range, the digit's extent scaled
     into 20x20 keeping its aspect ratio, grey levels from the background-removed page (a typical
     stroke = white), placed by centre of mass.
numpy and Pillow only: the base install stays onnxruntime, numpy, Pillow and Typer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from ..spec import IMAGE_SIDE
from .framed import MNIST_BOX
from .pixels import centred_by_mass, max_filter, min_filter, resized, sample_of, smoothed, to_gray, upright, upsampled
from .strokes import find_digit_past_rulings, without_solids

WORK_SIDE = 512  # analysis at most this long: as accurate as 800 on the rendered photos, twice as fast
MIN_WORK_SIDE = 112  # and at least this long: four times MNIST's 28
GRID_SIDE = 64  # the paper's level is estimated on a grid this long ...
CLOSING_SPAN = 0.3  # ... by a closing this share of the longer side: wider than the thickest stroke, at first;
STROKES_PER_SPAN = 5  # then this many of the digit's own strokes wide, a refinement when its digit lies
REFINES = 0.8  # this much inside the first look's (a big dark hole's inside then is paper: its rim, a ring);
REFINES_ALONE = 0.5  # in a crop of the digit alone, with no hole, half: the first look's filter, narrower than
# a bold enlarged crop's strokes, takes their faint ends (a 7's bar) for paper, which the second look finds
NOISE_SIGMAS = 4.0  # ink starts this many noise deviations above the paper ...
MIN_CONTRAST = 0.04  # ... and never less than 4% darker than the paper (lighter, on a dark page)
MIN_STROKE = 0.1  # a digit's typical stroke is at least 10% darker than the paper (lighter on a dark page)
SOLID = 0.7  # ink that fills this share of its box ...
ACROSS = 0.9  # ... and runs across this share of the picture is a block of paper (a strip), not strokes,
CROP_SIDE = 32  # a picture this small (MNIST's 28, optdigits' 32, an 8x8 or 16x16) is a crop of a digit alone
STRIP_INPUT = 48  # in a picture at least this many pixels across: a smaller one (an 8x8, 16x16 or 32x32 crop of
# another data set, UCI optdigits lost 3 points of 300 to it at 32) is a crop of the digit alone
BLOCK_ACROSS = "a solid block across the picture, no digit (a strip of paper or a shadow?)"
SMOOTH_ENLARGED = 0.007  # a picture within this share of its contrast of itself shrunk to CROP_SIDE and enlarged
# back (bicubic both ways) holds no more than a CROP_SIDE crop: 8x8 scans enlarged to 48-600 px (bilinear, bicubic,
# Lanczos) differ by at most 0.006; the 999 rendered real inputs by 0.0074 or more, the rendered documents 0.015
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


def locate_steps(image: Image.Image, invert: bool | None = None) -> Steps:
    """Any picture -> the located, MNIST-framed digit and the intermediate steps. A blank page gives black."""
    original = to_gray(upright(image))
    gray, scale = working_copy(original)
    # A small crop enlarged (a user's 8x8 or 16x16 scan blown up to 64 px) is still a crop of the digit alone:
    # its bold strokes fill their box, so a filled loop passed for a punch hole and the digit for a strip.
    alone = min(image.size) <= CROP_SIDE or enlarged_crop(original, gray)
    found, light = _located(gray, invert, holes=not alone)
    if found.box is not None and not alone and min(image.size) >= STRIP_INPUT and _solid(found):
        # A solid block is no digit: a strip of paper between a book's dark edge and a dark table passes for
        # ink on a page taken as dark. The polarity that counts is the region's around the digit: look inside.
        inner = _inside(gray, found.box) if invert is None else None
        found, light = inner or (replace(found, concern=BLOCK_ACROSS), light)
    if found.box is None:
        return Steps(found.levels, None, np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.uint8), light, scale, found.concern)
    return Steps(found.levels, found.box, frame(even_strokes(found)), light, scale, found.concern)


def _located(gray: np.ndarray, invert: bool | None, holes: bool = True) -> tuple[Found, bool]:
    """The digit in a working copy: polarity, the paper's lighting, two searches (Found, light paper?).
    `holes`: solid ink much thicker than a pen's stroke (a punch hole, a blot) is no part of the digit; not
    so in a crop of the digit alone (an 8x8 or 16x16 crop's strokes are a quarter of it)."""
    coarse = _coarse(gray)
    light = looks_light(gray, upsampled(_lighting(coarse), gray.shape)) if invert is None else invert
    light_field = upsampled(_paper_lighting(coarse, light), gray.shape)
    found = search(gray, light_field, light, CLOSING_SPAN, holes)
    # The paper's filter should be a few strokes wide: narrower, the pen's strokes are eaten; wider,
    # a shadow's band or a dark corner passes for ink. The first look measured the pen: look again.
    span = STROKES_PER_SPAN * found.stroke_width / max(gray.shape) if found.box is not None else 1.0
    span = float(np.clip(span, 0.0, 1.0))
    if not 0.67 < span / CLOSING_SPAN < 1.5:
        again = search(gray, light_field, light, span, holes)
        # The second look refines the first: it may drop a shadow joined to the digit, but a digit found
        # elsewhere (the rim of a page on a desk, once the desk passes for paper) is not a refinement.
        refines = REFINES if holes else REFINES_ALONE
        if again.box is not None and (found.box is None or _share_inside(again.box, found.box) >= refines):
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


def search(gray: np.ndarray, light_field: np.ndarray, light: bool, span: float, holes: bool = True) -> Found:
    """Background removal with a paper filter `span` of the longer side wide, thresholds, components."""
    page = remove_background(gray, light_field, light, span)
    threshold, low = ink_thresholds(page)
    if threshold is None:
        return Found(np.clip(page, 0.0, 1.0))
    if holes:
        page = without_solids(page, threshold)
    selected, box, concern, page = find_digit_past_rulings(page, threshold, low, holes)
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
        ink = max_filter(ink, 2 * radius + 1)
    elif radius < 0:
        ink = min_filter(ink, 2 * -radius + 1)
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
    return np.clip(resized(gray, size, method), 0.0, 1.0), scale


def enlarged_crop(original: np.ndarray, working: np.ndarray) -> bool:
    """Does the picture hold no more than a crop CROP_SIDE pixels across, enlarged? By repeated pixels (at
    most CROP_SIDE distinct runs of rows and of columns), or smoothly (shrunk to CROP_SIDE and enlarged back,
    it differs from itself by under SMOOTH_ENLARGED of its contrast). A big photo is judged by its working
    copy, which is shrunk already; a small picture by its own pixels, not by the working copy's enlargement."""
    if max(original.shape) > WORK_SIDE:
        return _smooth_at_crop_side(working)
    return max(_runs(original), _runs(original.T)) <= CROP_SIDE or _smooth_at_crop_side(original)


def _smooth_at_crop_side(gray: np.ndarray) -> bool:
    height, width = gray.shape
    shrink = CROP_SIDE / max(height, width)
    small = resized(gray, (max(1, round(width * shrink)), max(1, round(height * shrink))), Image.Resampling.BICUBIC)
    back = resized(small, (width, height), Image.Resampling.BICUBIC)
    contrast = float(small.max() - small.min())  # the shrunk picture's: noise averaged out, and no percentile's cost
    return float(np.mean(np.abs(gray - back))) < SMOOTH_ENLARGED * max(contrast, 1e-3)


def _runs(gray: np.ndarray) -> int:
    """How many runs of identical rows the picture has (a picture enlarged by repeating pixels has few)."""
    return 1 + int(np.count_nonzero((gray[1:] != gray[:-1]).any(axis=1)))


def looks_light(gray: np.ndarray, light_field: np.ndarray) -> bool:
    """Light paper with dark ink? Ink is the minority: the heavier tail away from the page's own level.

    `light_field`, the page's level, is a smooth surface fitted to the majority of pixels, so uneven
    light cancels; a desk or a shadow beyond the page is darker, on the same side as dark ink. When
    neither tail is clearly heavier (a bold digit filling a tight crop: ink is half of it), the border
    decides, as it is mostly paper there.
    """
    residual = gray - light_field
    spread = 1.4826 * float(np.median(np.abs(sample_of(residual)))) + 1e-3  # robust noise level (MAD)
    darker = float(np.clip(-residual - 3 * spread, 0, None).sum())
    lighter = float(np.clip(residual - 3 * spread, 0, None).sum())
    if abs(darker - lighter) >= 0.5 * (darker + lighter) > 0:
        return darker > lighter
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    low, high = np.percentile(sample_of(gray), [2, 98])
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
        paper = upsampled(smoothed(min_filter(max_filter(coarse, size), size)), gray.shape)
        page = 1.0 - flat / np.maximum(paper, 1e-3)
    else:
        floor = upsampled(smoothed(max_filter(min_filter(coarse, size), size)), gray.shape)
        page = flat - floor
    return np.clip(page, -1.0, 1.0).astype(np.float32)


def ink_thresholds(page: np.ndarray) -> tuple[float | None, float]:
    """(Otsu's threshold near the ink, the noise floor); (None, floor) when nothing stands out of the noise.

    Strong ink is above Otsu's threshold; the faint parts of a stroke (a pencil's, or a low-resolution
    scan's) count when they rise above the noise floor and join strong ink: hysteresis.
    """
    # Noise from neighbours' differences (ink edges are few, noise is everywhere); the paper's level from
    # the darkest fifth, since a bold digit in a tight crop can cover more than half of it.
    sample = sample_of(page)
    rows = page[:: max(1, page.shape[0] // sample.shape[0])]
    noise = 1.0484 * float(np.median(np.abs(np.diff(rows, axis=1)))) if page.shape[1] > 1 else 0.0
    level = float(np.percentile(sample, 20)) + 0.84 * noise
    floor = level + max(NOISE_SIGMAS * noise, MIN_CONTRAST)
    candidates = page > floor
    if np.count_nonzero(candidates) < 4:
        return None, floor
    near = max_filter(candidates.astype(np.float32), 5) > 0  # the ink and the paper right around it
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
    small = np.clip(resized(crop, size, Image.Resampling.LANCZOS), 0.0, None)  # Lanczos rings below 0
    # MNIST's strokes reach full white, however faint the pen: a digit shrunk to a faint hairline is
    # brightened. Not by Lanczos' overshoot past white beside a sharp edge (a 16x16 bitmap's rings to 1.15),
    # which would dim every stroke to 0.87 of white.
    peak = min(float(small.max()), 1.0)
    if peak > 0:
        small = small / peak
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
    return resized(gray, size, Image.Resampling.BOX)
