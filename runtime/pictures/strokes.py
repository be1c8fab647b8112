"""Which ink is the digit: connected strokes, judged apart from specks, page edges, the desk, frames,
rulings, a neighbour's writing and a full stop. numpy only (connected components by union-find)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pixels import max_filter
from .rulings import beyond, only_rulings, rulings, taken_out

MIN_DIGIT = 0.04  # a digit spans at least this share of the image's shorter side
SPECK = 0.05  # components under this share of the heaviest one's strong ink are specks
MERGE_GAP = 0.25  # pieces within this share of the digit's size belong to it (a broken 5 or 7)
DOT = 0.2  # a full stop is at most this share of the digit's size
SAME_PEN = 0.75  # a piece of the digit's strong ink is at least this share of the seed's typical level
BAND_THICK, BAND_FILL = 0.15, 0.6  # a solid band: this share of the picture across, this share of its box inked
SOLID_SIDE = 0.15  # a round solid blob this share of the picture's shorter side across is a hole or a blot
OTHER_INK = 0.05  # ... beside other strong ink of at least this share of its area
SOLID_RIM = 3  # pixels around solid ink that are its soft edge
HOLE_SIZE = 0.3  # a blob this share of the digit's size or more is a hole, not a piece of a stroke
GROWN = 1.5  # a digit whose box grew this much by the bands put back may have kept a ruling or a frame
LINES_KEPT = "ruled lines or a frame kept with the digit?"
BLOB_FILL = 0.65  # a component filling this share of its box, about as wide as tall, is a blob (a hole)


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


def find_digit(
    page: np.ndarray, threshold: float, low: float, bands=(), holes: bool = True
) -> tuple[np.ndarray | None, tuple | None]:
    """The digit's pixels (a mask) and its strong ink's bounding box; (None, None) if there is none.
    `bands`: rulings, which part the digit from its neighbours' writing (rulings.Band)."""
    parts = components(page, threshold, low)
    inked = parts.strong_area > 0
    if not inked.any():
        return None, None
    strokes = inked & ~parts.edge_like & ~parts.encircling  # specks are small beside the largest of these
    inked &= parts.strong_area >= SPECK * parts.strong_area[strokes if strokes.any() else inked].max()
    chosen = cluster(parts, inked, page.shape, bands, holes)
    if not chosen.any():
        return None, None  # only edges: the desk or a shadow beyond a blank page
    boxes = parts.boxes[chosen]
    box = (int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()), int(boxes[:, 3].max()))
    if max(box[2] - box[0], box[3] - box[1]) < MIN_DIGIT * min(page.shape):
        return None, None  # a speck of dust or a clump of noise on a blank page
    selected = np.isin(parts.labels, np.flatnonzero(chosen))
    return selected, box


def without_solids(page: np.ndarray, threshold: float) -> np.ndarray:
    """The page less its round solid blobs of strong ink (a punch hole, a blot) at least SOLID_SIDE of the
    picture's shorter side across, with their soft rims, when other strong ink is there (the digit). A
    faint ruling through the hole and the digit would otherwise join them by its weak ink; their strong
    ink stays apart. A bold marker's digit is not one: its strokes leave most of its box empty."""
    labels, count = label(page >= threshold)
    if count < 2:
        return page
    which = labels[labels >= 0]
    rows, columns = np.nonzero(labels >= 0)
    area = np.bincount(which, minlength=count)
    boxes = np.zeros((count, 4), np.int64)
    boxes[:, 0], boxes[:, 1] = page.shape
    np.minimum.at(boxes[:, 0], which, rows), np.minimum.at(boxes[:, 1], which, columns)
    np.maximum.at(boxes[:, 2], which, rows + 1), np.maximum.at(boxes[:, 3], which, columns + 1)
    tall, wide = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    round_solid = (area >= BLOB_FILL * tall * wide) & (np.maximum(tall, wide) <= 1.4 * np.minimum(tall, wide))
    holes = round_solid & (np.minimum(tall, wide) >= SOLID_SIDE * min(page.shape))
    for k in np.flatnonzero(holes):  # solid through its middle: a bold 0's ring is not, nor a blotted loop
        top, left, bottom, right = boxes[k]
        middle = labels[top + tall[k] // 3 : bottom - tall[k] // 3, left + wide[k] // 3 : right - wide[k] // 3]
        holes[k] = bool((middle == k).all())
    if not holes.any() or not (area[~holes] >= OTHER_INK * area[holes].max()).any():
        return page  # a blob alone is what there is to frame (and the shape check may warn of it)
    core = np.isin(labels, np.flatnonzero(holes)).astype(np.float32)
    return np.where(max_filter(core, 2 * SOLID_RIM + 1) > 0, 0.0, page).astype(page.dtype)


def find_digit_past_rulings(page: np.ndarray, threshold: float, low: float, holes: bool = True):
    """find_digit on the page less its rulings (ruled lines, frames, cell borders: see rulings.py): (mask,
    box, what to warn of, the page it was found on). A band that does not run on past the digit found without
    the bands is the digit's own stroke, and is put back; when the bands are all the ink there is, they are
    what is framed, and said."""
    bands = rulings(page > low)
    if not bands:
        return (*find_digit(page, threshold, low, (), holes), None, page)
    clean = taken_out(page, bands, threshold, low)
    selected, box = find_digit(clean, threshold, low, bands, holes)
    if box is None:
        return (*find_digit(page, threshold, low, (), holes), only_rulings(bands, page.shape), page)
    ruled = [band for band in bands if beyond(band, box)]
    if len(ruled) == len(bands):
        return selected, box, None, clean
    alone = box
    clean = taken_out(page, ruled, threshold, low)
    selected, box = find_digit(clean, threshold, low, ruled, holes)
    return selected, box, _lines_kept(alone, box), clean


def _lines_kept(alone: tuple[int, int, int, int], box: tuple[int, int, int, int] | None) -> str | None:
    """What to say when the bands put back as the digit's own strokes made its box much bigger: they ran
    across it (a ruling kept with the digit, a frame around it), more likely than a digit's stroke did."""
    if box is None:
        return None
    area = (box[2] - box[0]) * (box[3] - box[1])
    return LINES_KEPT if area >= GROWN * (alone[2] - alone[0]) * (alone[3] - alone[1]) else None


def cluster(parts: Components, inked: np.ndarray, shape: tuple[int, int], bands=(), holes: bool = True) -> np.ndarray:
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
    # A round solid blob (a punch hole, a blot) is no stroke: a pen's disc fills pi/4 of its box, a digit less.
    # (In a crop of the digit alone, `holes` False, there are none: a bold 6's loop fills in.)
    blob = (parts.strong_area >= BLOB_FILL * tall * wide) & (np.maximum(tall, wide) <= 1.4 * np.minimum(tall, wide))
    blob &= holes
    score *= np.where(parts.touches_border, 0.5, 1.0) * np.where(frame, 0.1, 1.0) * np.where(blob, 0.1, 1.0)
    # Something that runs around the border is a digit only when nothing else is: a 0 filling its crop.
    seeds = inked & ~parts.edge_like & ~parts.encircling
    seeds = seeds if seeds.any() else inked & ~parts.edge_like
    # A hole is never the digit beside a stroke, nor a solid band across the picture (a book's dark edge, a
    # shadow: a tight crop's bold 1 is one too, and is the digit when it is all there is).
    band = _solid_band(parts.boxes, parts.strong_area, shape)
    seeds = seeds & ~blob & ~band if (seeds & ~blob & ~band).any() else seeds
    if not seeds.any():
        return seeds
    seed = int(np.argmax(np.where(seeds, score, -1)))
    size = max(tall[seed], wide[seed])
    fills_image = tall[seed] >= 0.5 * height or wide[seed] >= 0.5 * width
    # Pieces of the same digit are near it, not much larger than it, not a full stop after it, and not
    # cut by the picture's edge across a ruling (a neighbouring cell's writing).
    usable = (inked if fills_image else seeds) & (np.maximum(tall, wide) <= 1.5 * size)
    usable &= (_same_cell(parts.boxes, seed, bands) | ~parts.touches_border) & ~_dots_beside(parts, seed, size)
    # Nor a blob (a punch hole beside the digit), nor ink much fainter than the pen's (a hole's shadowed rim).
    pen = parts.strong_mass / np.maximum(parts.strong_area, 1)
    usable &= ~(blob & (np.maximum(tall, wide) >= HOLE_SIZE * size)) & ~band & (pen >= SAME_PEN * pen[seed])
    return _grown(parts.boxes, seed, usable, MERGE_GAP * size)


def _solid_band(boxes: np.ndarray, strong_area: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which components are solid bands from one side of the picture to the opposite one, thick beside it."""
    height, width = shape
    tall, wide = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    down = (boxes[:, 0] <= 1) & (boxes[:, 2] >= height - 1) & (wide >= BAND_THICK * width)
    along = (boxes[:, 1] <= 1) & (boxes[:, 3] >= width - 1) & (tall >= BAND_THICK * height)
    return (down | along) & (strong_area >= BAND_FILL * tall * wide)


def _grown(boxes: np.ndarray, seed: int, usable: np.ndarray, gap: float) -> np.ndarray:
    """The seed and, round by round, every usable piece within `gap` of the box of those chosen so far."""
    chosen = np.zeros(len(usable), bool)
    chosen[seed] = True
    box = boxes[seed].copy()
    while True:
        gap_y = np.maximum(box[0] - boxes[:, 2], boxes[:, 0] - box[2])
        gap_x = np.maximum(box[1] - boxes[:, 3], boxes[:, 1] - box[3])
        near = usable & ~chosen & (np.maximum(gap_y, gap_x) <= gap)
        if not near.any():
            return chosen
        chosen |= near
        picked = boxes[chosen]
        box = np.array([picked[:, 0].min(), picked[:, 1].min(), picked[:, 2].max(), picked[:, 3].max()])


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
