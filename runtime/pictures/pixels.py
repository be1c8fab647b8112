"""Pixels as numpy arrays: a picture turned upright and grey, placed by its centre of mass, and the few
filters the localiser needs (max, min, box blur, resizing). numpy and Pillow only; used by images and
localize alike, so neither imports the other for them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..spec import IMAGE_SIDE

EXIF_ORIENTATION = 0x0112


def upright(image: Image.Image) -> Image.Image:
    """A photo taken sideways, turned as its EXIF orientation says."""
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        from PIL import ImageOps  # only then: it costs 1.6 ms of every start

        image = ImageOps.exif_transpose(image)
    return image


def to_gray(image: Image.Image) -> np.ndarray:
    """float32 [0, 1] luminance; transparency becomes white paper; 16-bit and float modes keep their range."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.float32) / 65535.0
    if image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = 1.0 if values.max(initial=0) <= 1.0 else 255.0 if values.max() <= 255 else 65535.0
        return np.clip(values / top, 0, 1)
    return np.asarray(on_paper(image, "L"), dtype=np.float32) / 255.0


def on_paper(image: Image.Image, mode: str) -> Image.Image:
    """The image in `mode` (L or RGB), its transparent parts white paper (Pillow's convert alone would drop
    the alpha and show whatever colour the transparent pixels hold, often black)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return image.convert(mode)


def centred_by_mass(box: np.ndarray) -> np.ndarray:
    """A digit at most 28x28 (float, >= 0) placed on black 28x28 with its centre of mass at the centre."""
    box = box[:IMAGE_SIDE, :IMAGE_SIDE]
    total = float(box.sum()) or 1.0
    centre_y = float((box.sum(axis=1) * np.arange(box.shape[0])).sum()) / total
    centre_x = float((box.sum(axis=0) * np.arange(box.shape[1])).sum()) / total
    # MNIST's digits have their centre of mass at pixel index 14.0 (mean over its training set), not 13.5.
    top = int(np.clip(round(IMAGE_SIDE / 2 - centre_y), 0, IMAGE_SIDE - box.shape[0]))
    left = int(np.clip(round(IMAGE_SIDE / 2 - centre_x), 0, IMAGE_SIDE - box.shape[1]))
    canvas = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32)
    canvas[top : top + box.shape[0], left : left + box.shape[1]] = box
    return canvas


def max_filter(values: np.ndarray, size: int) -> np.ndarray:
    return rank_filter(values, size, np.maximum)


def min_filter(values: np.ndarray, size: int) -> np.ndarray:
    return rank_filter(values, size, np.minimum)


def rank_filter(values: np.ndarray, size: int, pick) -> np.ndarray:
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


def sample_of(values: np.ndarray, most: int = 60_000) -> np.ndarray:
    """Every k-th pixel each way, at most about `most` of them: enough for a median or a percentile."""
    step = max(1, int(np.sqrt(values.size / most)))
    return values[::step, ::step]


def smoothed(values: np.ndarray) -> np.ndarray:
    """A 3x3 box blur, twice: the closing's plateaus become smooth light."""
    for _ in range(2):
        padded = np.pad(values, 1, mode="edge")
        values = (
            sum(padded[dy : dy + values.shape[0], dx : dx + values.shape[1]] for dy in range(3) for dx in range(3))
            / 9.0
        )
    return values


def upsampled(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return resized(values, (shape[1], shape[0]), Image.Resampling.BILINEAR)


def resized(values: np.ndarray, size: tuple[int, int], method) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32), mode="F")
    return np.asarray(image.resize(size, method), dtype=np.float32)
