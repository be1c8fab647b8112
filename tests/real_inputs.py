"""Digits as people meet them, rendered from real MNIST digits: seeded, deterministic, not hand-picked.

Three kinds, in turn:
  photo  - dark ink on light paper, photographed: the digit at some size and place on a larger page,
           rotated up to 10 degrees, uneven light (gradient, vignette, sometimes a shadow), paper grain,
           sensor noise, slight blur, sometimes dust specks or the desk at the page's edge, JPEG, sometimes RGB;
  crop   - a tight crop around the digit at 40-200 px, white on black or black on white, PNG or JPEG;
  stroke - the digit drawn with a much thicker or thinner pen, then shown as a photo or as a crop.

Each digit is first enlarged smoothly (bicubic or Lanczos), so nothing is tuned to one renderer's pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

CATEGORIES = ("photo", "crop", "stroke")
PAGE_SIZES = ((640, 480), (480, 640), (400, 300), (300, 400), (800, 600))


@dataclass
class RealInput:
    name: str
    category: str
    label: int
    data: bytes  # the file's bytes
    suffix: str  # ".jpg" or ".png"


def enlarge(digit: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """The 28x28 digit enlarged to side x side ink coverage in [0, 1], by a smooth filter."""
    method = Image.Resampling.BICUBIC if rng.random() < 0.5 else Image.Resampling.LANCZOS
    big = Image.fromarray(digit).resize((side, side), method)
    return np.asarray(big, np.float32) / 255.0


def change_pen(ink: np.ndarray, thicker: bool, side: int) -> np.ndarray:
    """A thicker pen (dilation) or a thinner one (erosion), scaled to the digit's size, then re-smoothed."""
    scale = side / 28
    image = Image.fromarray((ink * 255).astype(np.uint8))
    if thicker:
        image = image.filter(ImageFilter.MaxFilter(2 * max(1, round(0.9 * scale)) + 1))
    else:
        image = _thinner(image.point(lambda v: 255 if v > 128 else 0), max(1, round(0.5 * scale)))
    image = image.filter(ImageFilter.GaussianBlur(max(0.6, 0.3 * scale)))
    return np.asarray(image, np.float32) / 255.0


def _thinner(core: Image.Image, radius: int) -> Image.Image:
    """The stroke's core eroded by up to `radius`, but never so far that the digit falls apart."""
    area = np.count_nonzero(np.asarray(core))
    for r in range(radius, 0, -1):
        eroded = core.filter(ImageFilter.MinFilter(2 * r + 1))
        if np.count_nonzero(np.asarray(eroded)) >= 0.4 * area:
            return eroded
    return core


def rotated(ink: np.ndarray, rng: np.random.Generator, limit: float = 10.0) -> np.ndarray:
    image = Image.fromarray(ink, mode="F").rotate(rng.uniform(-limit, limit), Image.Resampling.BICUBIC, expand=True)
    return np.clip(np.asarray(image, np.float32), 0, 1)


def lighting(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: a linear gradient in a random direction times a vignette, in (0, 1]."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy, xx = yy / height - 0.5, xx / width - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = 1.0 - rng.uniform(0.0, 0.35) * (0.5 + np.cos(angle) * xx + np.sin(angle) * yy)
    centre_y, centre_x = rng.uniform(-0.2, 0.2, size=2)
    light *= 1.0 - rng.uniform(0.0, 0.35) * ((yy - centre_y) ** 2 + (xx - centre_x) ** 2) * 2
    if rng.random() < 0.2:  # a soft shadow over one side, e.g. of the phone
        edge = rng.uniform(-0.4, -0.15)
        cut = (xx if rng.random() < 0.5 else yy) * rng.choice([-1, 1])
        light *= 1.0 - rng.uniform(0.15, 0.35) / (1 + np.exp(-(edge - cut) / 0.03))
    return np.clip(light, 0.2, 1.0)


def grain(height: int, width: int, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Paper texture: noise correlated over a pixel or two."""
    noise = Image.fromarray(rng.normal(0, 1, (height, width)).astype(np.float32), mode="F")
    half = noise.resize((width // 2 + 1, height // 2 + 1))
    smooth = np.asarray(half.resize((width, height), Image.Resampling.BICUBIC))
    return smooth * strength


def photo(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    width, height = PAGE_SIZES[rng.integers(len(PAGE_SIZES))]
    side = int(rng.uniform(0.2, 0.75) * min(width, height))  # the 28x28 frame; the digit is about 70% of it
    ink = rotated(ink if ink.shape[0] == side else _resized(ink, side), rng)
    coverage = np.zeros((height, width), np.float32)
    top = int(np.clip(height / 2 + rng.uniform(-0.25, 0.25) * height - ink.shape[0] / 2, 0, height - ink.shape[0]))
    left = int(np.clip(width / 2 + rng.uniform(-0.25, 0.25) * width - ink.shape[1] / 2, 0, width - ink.shape[1]))
    coverage[top : top + ink.shape[0], left : left + ink.shape[1]] = ink[: height - top, : width - left]
    _add_specks(coverage, rng)
    paper, pen = rng.uniform(0.72, 0.95), rng.uniform(0.04, 0.4)  # pen up to pencil-grey
    reflectance = paper * (1 - coverage) + pen * coverage + grain(height, width, rng, rng.uniform(0.0, 0.035))
    if rng.random() < 0.15:  # the desk shows beyond one edge of the page
        reflectance = _desk_edge(reflectance, rng)
    light = lighting(height, width, rng)
    colour = rng.random() < 0.5
    tint = rng.uniform(0.85, 1.0, size=3) if colour else np.ones(3)
    pixels = (reflectance * light)[..., None] * tint
    pixels += rng.normal(0, rng.uniform(0.005, 0.03), pixels.shape if colour else pixels.shape[:2] + (1,))
    image = _to_image(pixels if colour else pixels[..., :1])
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.5)))


def crop(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A tight crop of 40-200 px around the digit's own bounding box, margins 0-25% of it, either polarity."""
    rows, columns = np.flatnonzero(ink.max(axis=1) > 0.1), np.flatnonzero(ink.max(axis=0) > 0.1)
    box = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    margins = (rng.uniform(0.0, 0.25, size=4) * max(box.shape)).astype(int)
    framed = np.pad(box, ((margins[0], margins[1]), (margins[2], margins[3])))
    target = int(rng.integers(40, 201))
    scale = target / max(framed.shape)
    size = (max(8, round(framed.shape[1] * scale)), max(8, round(framed.shape[0] * scale)))
    framed = np.clip(np.asarray(Image.fromarray(framed, mode="F").resize(size, Image.Resampling.LANCZOS)), 0, 1)
    dark_on_light = rng.random() < 0.5
    low, high = rng.uniform(0.0, 0.15), rng.uniform(0.8, 1.0)
    pixels = low + (high - low) * (1 - framed if dark_on_light else framed)
    pixels = pixels + rng.normal(0, rng.uniform(0.0, 0.02), pixels.shape)
    image = _to_image(pixels[..., None])
    return image.convert("RGB") if rng.random() < 0.3 else image


def render(digit: np.ndarray, category: str, rng: np.random.Generator) -> tuple[bytes, str]:
    """One digit as a file of the given category: (bytes, suffix)."""
    as_photo = category == "photo" or (category == "stroke" and rng.random() < 0.5)
    side = int(rng.integers(140, 300)) if as_photo else int(rng.integers(84, 200))
    ink = enlarge(digit, side, rng)
    if category == "stroke":
        ink = change_pen(ink, thicker=rng.random() < 0.5, side=side)
    image = photo(ink, rng) if as_photo else crop(ink, rng)
    if as_photo or rng.random() < 0.4:
        return _encoded(image, "JPEG", quality=int(rng.integers(55, 91))), ".jpg"
    return _encoded(image, "PNG"), ".png"


def real_inputs(digits: np.ndarray, labels: np.ndarray, count: int, seed: int = 0) -> list[RealInput]:
    """`count` test digits chosen by a seeded draw (not by hand), each rendered as one category in turn."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(digits), size=count, replace=False))
    made = []
    for position, index in enumerate(chosen):
        category = CATEGORIES[position % len(CATEGORIES)]
        data, suffix = render(digits[index], category, np.random.default_rng([seed, int(index)]))
        made.append(RealInput(f"{category}-{index:04d}", category, int(labels[index]), data, suffix))
    return made


ENLARGED_SIDES = (28, 32, 48, 64, 100)  # a small scan enlarged to these sides, MNIST's 28 among them
ENLARGERS = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


def enlarged_crops(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0) -> list[RealInput]:
    """Small white-on-black scans enlarged as a user would: `count` of scikit-learn's 8x8 digits (values 0-16,
    UCI's writers, not MNIST's), chosen by a seeded draw, each enlarged to one of ENLARGED_SIDES by one of
    ENLARGERS in turn, PNG. Tight crops (the digit touches their edges) with no noise: the category is the side."""
    chosen = np.sort(np.random.default_rng(seed).choice(len(images), size=count, replace=False))
    made = []
    for position, index in enumerate(chosen):
        side = ENLARGED_SIDES[position % len(ENLARGED_SIDES)]
        enlarger = ENLARGERS[(position // len(ENLARGED_SIDES)) % len(ENLARGERS)]
        small = Image.fromarray(np.clip(np.rint(images[index] * 255 / 16), 0, 255).astype(np.uint8))
        data = _encoded(small.resize((side, side), enlarger), "PNG")
        made.append(RealInput(f"enlarged-{index:04d}", f"{side}px", int(labels[index]), data, ".png"))
    return made


def write(made: list[RealInput], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{item.name}{item.suffix}" for item in made]
    for item, path in zip(made, paths):
        path.write_bytes(item.data)
    return paths


def _resized(ink: np.ndarray, side: int) -> np.ndarray:
    return np.clip(np.asarray(Image.fromarray(ink, mode="F").resize((side, side), Image.Resampling.BICUBIC)), 0, 1)


def _add_specks(coverage: np.ndarray, rng: np.random.Generator) -> None:
    """Dust and dots of ink, a pixel or three across, in some photos."""
    if rng.random() < 0.3:
        for _ in range(int(rng.integers(1, 8))):
            y, x = rng.integers(0, coverage.shape[0] - 3), rng.integers(0, coverage.shape[1] - 3)
            radius = int(rng.integers(1, 4))
            coverage[y : y + radius, x : x + radius] = np.maximum(coverage[y : y + radius, x : x + radius], 0.8)


def _desk_edge(reflectance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A strip of darker desk along one side of the photo: the page did not fill the frame."""
    turns = int(rng.integers(4))
    view = np.rot90(reflectance.copy(), k=turns)  # the strip goes along the top of a turned view
    view[: int(rng.uniform(0.03, 0.1) * view.shape[0])] = rng.uniform(0.15, 0.45)
    return np.ascontiguousarray(np.rot90(view, k=-turns))


def _to_image(pixels: np.ndarray) -> Image.Image:
    values = np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)
    return Image.fromarray(values[..., 0]) if values.shape[-1] == 1 else Image.fromarray(values, mode="RGB")


def _encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def train_classifier(digits: np.ndarray, labels: np.ndarray):
    """A small digit classifier (PCA to 40, then an RBF SVM): about 97% on clean MNIST test digits, 2 s to fit."""
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    classifier = make_pipeline(PCA(40, random_state=0), SVC(C=10))
    return classifier.fit(as_features(digits), labels)


def as_features(digits: np.ndarray) -> np.ndarray:
    return digits.reshape(len(digits), -1).astype(np.float32) / 255.0


def kept_rates(classifier, decoded: np.ndarray, made: list[RealInput]) -> dict[str, float]:
    """The share of inputs whose decoded digit the classifier gives the true class: per category and overall."""
    kept = classifier.predict(as_features(decoded)) == np.array([item.label for item in made])
    categories = np.array([item.category for item in made])
    rates = {category: float(kept[categories == category].mean()) for category in CATEGORIES}
    rates["overall"] = float(kept.mean())
    return rates
