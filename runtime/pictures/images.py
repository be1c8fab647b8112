"""Images in and out: any picture -> a 28x28 MNIST-style digit, and digits -> PNG.

MNIST digits are white on black, centred, filling most of the frame. A 28x28
image that MNIST could have framed (runtime/framed.py) is taken as it is
(inverted if its border is light, or if forced). Any other picture is framed
one of three ways (FRAMINGS):
  locate - the default: find the digit on the page and frame it as MNIST did
           (runtime/localize.py: background removal, Otsu, connected strokes, 20x20 box);
  fit    - the whole image fitted into 28x28, keeping its aspect ratio (a 28x28 image as it is);
  center - MNIST's normalisation applied to the whole image, without looking for the digit.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DataError
from ..spec import IMAGE_SIDE
from .framed import MNIST_BOX, mnist_framed
from .pixels import centred_by_mass, on_paper, to_gray, upright

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MAX_PIXELS = 40_000_000  # refuse larger images before decoding them (decompression bombs)
INK_THRESHOLD = 0.2  # MNIST_BOX bounds the pixels at least this bright (a share of the brightest), after inversion
FRAMINGS = ("locate", "fit", "center")


class Picture(NamedTuple):
    """An image file read as a digit."""

    digit: np.ndarray  # uint8 28x28, white on black, framed as MNIST framed its digits (or the `shape` asked for)
    size: tuple[int, int]  # the file's (width, height)
    concern: str | None = None  # what the localiser found instead of a digit (rulings, a block): the warning


def read_image(
    path: Path,
    invert: bool | None = None,
    framing: str = "locate",
    max_pixels: int = MAX_PIXELS,
    data: bytes | None = None,
    shape: tuple[int, ...] | None = None,
    crop: bool = False,
) -> Picture:
    """One image file -> its Picture. DataError if it is not a usable image.
    `data`: the file's bytes, already read (by Ray Data, from object storage); `path` then only names it.
    `shape`: (H, W) or (H, W, C), a model of your own's image: the picture resized to it (`crop`: its centre
    cropped to the shape's aspect ratio first), nothing located."""
    if shape is not None and len(shape) == 1:
        raise DataError(f"{path}: the model takes {shape[0]} values, not a picture: give it arrays of (N, {shape[0]})")
    with open_image(path, max_pixels, data) as image:
        if shape is not None:
            return Picture(resized_to(image, shape, crop), image.size)
        digit, concern = framed(image, invert=invert, framing=framing)
        return Picture(digit, image.size, concern)


def resized_to(image: Image.Image, shape: tuple[int, ...], crop: bool = False) -> np.ndarray:
    """A picture as a model of your own takes it: upright, grey (H, W) or RGB (H, W, 3) with transparency over
    white, resized to fit exactly (Lanczos), uint8; with `crop`, its centre cut to the shape's aspect ratio
    first (nothing stretched). Training reads a folder of pictures the same way (train/data.py)."""
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    if channels not in (1, 3):
        raise DataError(f"pictures are grey or RGB; this model takes {channels} channels: give it arrays")
    picture = on_paper(upright(image), "L" if channels == 1 else "RGB")
    if crop:
        picture = picture.crop(_centre_box(picture.size, width / height))
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(picture, np.uint8).reshape(shape)


@contextlib.contextmanager
def open_image(path: Path, max_pixels: int = MAX_PIXELS, data: bytes | None = None):
    """The image in a file (or in `data`, its bytes), decoded (its first frame); DataError in one line if
    it is not a usable image, whether opening it or working on it inside the block fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _opened(path, data) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise DataError(f"{path}: {width}x{height} image is over the limit of {max_pixels:,} pixels")
                image.seek(0)  # animated GIF/WebP: the first frame
                image.load()
                yield image
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an image") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied") from None
    except UnidentifiedImageError:
        if path.suffix.lower() not in IMAGE_SUFFIXES:  # not meant as an image: say what is read
            raise DataError(
                f"{path}: not a kind of file aeonnx reads; give images ({', '.join(IMAGE_SUFFIXES)}), "
                "folders of them, or .npz / .npy / IDX arrays of 28x28 digits"
            ) from None
        raise DataError(f"{path}: not an image Pillow can read (empty, truncated or another format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(f"{path}: image is over Pillow's decompression-bomb pixel limit") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise DataError(f"{path}: unreadable image ({e})") from None


def _centre_box(size: tuple[int, int], aspect: float) -> tuple[int, int, int, int]:
    """The largest box of width/height `aspect` in the middle of a picture of `size`: (left, top, right, bottom)."""
    width, height = size
    keep_width, keep_height = min(width, round(height * aspect)), min(height, round(width / aspect))
    left, top = (width - keep_width) // 2, (height - keep_height) // 2
    return left, top, left + max(keep_width, 1), top + max(keep_height, 1)


def preprocess(image: Image.Image, invert: bool | None = None, framing: str = "locate") -> np.ndarray:
    """A Pillow image -> uint8 28x28, white digit on black. `framing`: one of FRAMINGS. A 28x28 image is
    taken as it is when MNIST could have framed it (runtime/framed.py) or with `fit`; else it is located."""
    return framed(image, invert, framing)[0]


def framed(image: Image.Image, invert: bool | None = None, framing: str = "locate") -> tuple[np.ndarray, str | None]:
    """What `preprocess` does, and what the localiser found instead of a digit, if it did (else None)."""
    image = upright(image)
    if image.size == (IMAGE_SIDE, IMAGE_SIDE) and framing != "center":
        digit = _as_it_is(image, invert)
        if framing == "fit" or mnist_framed(digit)[0]:
            return digit, None
    if framing == "locate":
        from .localize import locate_steps

        steps = locate_steps(image, invert)
        return steps.digit, steps.concern
    gray = to_gray(image)
    if invert is None:
        invert = has_light_background(gray)
    if invert:
        gray = 1.0 - gray
    digit = mnist_normalize(gray) if framing == "center" else fit(gray)
    return np.clip(np.rint(digit * 255.0), 0, 255).astype(np.uint8), None


def _as_it_is(image: Image.Image, invert: bool | None) -> np.ndarray:
    """A 28x28 image's own pixels as a white-on-black uint8 digit (inverted if its border is light, or if forced)."""
    if image.mode == "L":  # an 8-bit image: the float round trip would give these same bytes
        pixels = np.asarray(image)
        light = has_light_background(pixels) if invert is None else invert
        return 255 - pixels if light else pixels.copy()
    gray = to_gray(image)
    if has_light_background(gray) if invert is None else invert:
        gray = 1.0 - gray
    return np.clip(np.rint(gray * 255.0), 0, 255).astype(np.uint8)


def preprocess_steps(image: Image.Image, invert: bool | None = None):
    """What `preprocess` does with its default framing, step by step (localize.Steps), for `aeonnx inspect`."""
    from .localize import Steps, locate_steps

    image = upright(image)
    if image.size == (IMAGE_SIDE, IMAGE_SIDE):
        digit = _as_it_is(image, invert)
        if mnist_framed(digit)[0]:  # taken as it is: nothing to locate
            return Steps(digit.astype(np.float32) / 255.0, (0, 0, IMAGE_SIDE, IMAGE_SIDE), digit, False, 1.0)
    return locate_steps(image, invert)


def has_light_background(gray: np.ndarray) -> bool:
    """Paper is light when most of the image's outer ring is bright (over half the range: floats or uint8)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    half = 127.5 if gray.dtype == np.uint8 else 0.5
    # A count, not np.median: median imports numpy.ma, 10 ms of a 0.2 s cold start.
    return 2 * np.count_nonzero(border > half) > border.size


def fit(gray: np.ndarray, side: int = IMAGE_SIDE) -> np.ndarray:
    """Scale the longer side to `side` keeping the aspect ratio, centred on black."""
    height, width = gray.shape
    if (height, width) == (side, side):
        return gray
    scale = side / max(height, width)
    resized = _resize(gray, max(1, round(width * scale)), max(1, round(height * scale)))
    canvas = np.zeros((side, side), np.float32)
    top, left = (side - resized.shape[0]) // 2, (side - resized.shape[1]) // 2
    canvas[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return canvas


def mnist_normalize(gray: np.ndarray) -> np.ndarray:
    """MNIST's recipe: bounding box into 20x20 (aspect kept), centre of mass at the centre of 28x28."""
    ink = gray >= INK_THRESHOLD * max(float(gray.max()), 1e-6)
    if not ink.any():
        return fit(gray)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = gray[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    scale = MNIST_BOX / max(box.shape)
    box = _resize(box, max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale)))
    return centred_by_mass(box)


def _resize(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    resized = Image.fromarray(gray.astype(np.float32)).resize((width, height), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 2-D array (or (H, W, 3)) as PNG file bytes: Pillow's with optimize=True, byte for byte
    (pictures/png.py, which skips Pillow's per-picture set-up and its plugins' import)."""
    from .png import png_files

    return png_files(np.asarray(image)[None])[0]


# Digits are small and sharp: JPEG at its default quality 75 smears them, lossy WebP too.
_SAVE_OPTIONS = {"PNG": {"optimize": True}, "JPEG": {"quality": 95}, "WEBP": {"lossless": True}}


# The extensions people write, without asking Pillow: its registry imports every plugin first (44 ms).
COMMON_FORMATS = {
    ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF", ".webp": "WEBP",
    ".tif": "TIFF", ".tiff": "TIFF",
}  # fmt: skip


# The formats aeonnx reads (IMAGE_SUFFIXES'): Pillow tries no other plugin on a file, whatever it holds (an
# EPS file named .png never reaches Ghostscript, nor a PDF, PSD or FITS file any plugin of its own).
READ_FORMATS = tuple(dict.fromkeys(COMMON_FORMATS.values()))
READ_PLUGINS = (
    "PngImagePlugin",
    "JpegImagePlugin",
    "BmpImagePlugin",
    "GifImagePlugin",
    "WebPImagePlugin",
    "TiffImagePlugin",
)


def _opened(path: Path, data: bytes | None) -> Image.Image:
    """Image.open of the file (or of `data`) as the format its name says; failing that, as the other formats
    aeonnx reads, whose plugins are then imported: never all of Pillow's (Image.init), never one not allowed."""
    formats = formats_for(path)
    try:
        return Image.open(path if data is None else io.BytesIO(data), formats=formats[:1])
    except UnidentifiedImageError:
        import importlib

        for plugin in READ_PLUGINS:  # registering its format is what importing a plugin does
            importlib.import_module(f"PIL.{plugin}")
        return Image.open(path if data is None else io.BytesIO(data), formats=formats[1:])


def formats_for(path: Path | str) -> tuple[str, ...]:
    """READ_FORMATS, the one the file's extension names first: a file that is what its name says opens at
    the first try, with only that format's plugin imported."""
    named = COMMON_FORMATS.get(Path(path).suffix.lower())
    return READ_FORMATS if named is None else (named, *(f for f in READ_FORMATS if f != named))


def output_format(path: Path) -> str:
    """The format a picture's file name asks for, as Pillow knows it from the extension (PNG with none);
    one line for an extension Pillow cannot write, so that a .jpg never holds PNG bytes."""
    suffix = path.suffix.lower()
    if not suffix:
        return "PNG"
    if suffix in COMMON_FORMATS:
        return COMMON_FORMATS[suffix]
    found = Image.registered_extensions().get(suffix)  # loads Pillow's plugins: only for a rarer extension
    if found is None or found not in Image.SAVE:
        raise DataError(f"{path}: unknown picture extension {path.suffix!r}; use .png, .jpg, .bmp, .webp or .tif")
    return found


def image_bytes(image: np.ndarray, format: str = "PNG") -> bytes:
    """A uint8 2-D array as the bytes of a `format` file (see output_format)."""
    if format == "PNG":
        return png_bytes(image)
    buffer = io.BytesIO()
    try:
        Image.fromarray(image).save(buffer, format=format, **_SAVE_OPTIONS.get(format, {}))
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"cannot write a grey-level picture as {format} ({e})") from None
    return buffer.getvalue()
