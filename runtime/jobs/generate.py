"""sample and manifold: new digits (or a VAE of your own's pictures) from a VAE's generator, as a grid picture
or as files; and the grid pictures' size limits, which decompress --grid shares."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import spec
from ..errors import AeonnxError, DataError
from ..files import atomic_write_bytes, check_targets, staged_files
from ..model import Autoencoder
from ..pictures import grids, images
from .engine import DECODE_CHUNK

MAX_PICTURE_PIXELS = images.MAX_PIXELS  # a grid or manifold picture: what we write, we could read back

MAX_SAMPLE_FILES = 100_000  # `sample` into a folder: one run's worth; more is a loop of runs with seeds


def grid_of(digits: np.ndarray) -> np.ndarray:
    columns = max(1, math.ceil(math.sqrt(len(digits))))
    return grids.tile(digits, columns=columns, pad=2, fill=64)


DIGIT = (spec.IMAGE_SIDE, spec.IMAGE_SIDE)


def grid_size(count: int, image: tuple[int, ...] = DIGIT) -> tuple[int, int]:
    """(width, height) in pixels of grid_of(count images of shape `image`: (H, W) or (H, W, C))."""
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, -(-count // columns))
    return columns * (image[1] + 2) - 2, rows * (image[0] + 2) - 2


def check_grid_size(count: int, image: tuple[int, ...] = DIGIT) -> None:
    """Refuse, before any work, a grid picture over MAX_PICTURE_PIXELS: its memory grows with the count."""
    _refuse_oversized(
        lambda n: grid_size(n, image), count, "a grid of {count:,} images", "at most {largest:,} fit in one picture"
    )


def _refuse_oversized(size_of: Callable[[int], tuple[int, int]], count: int, what: str, instead: str) -> None:
    """AeonnxError, before any work, when the picture of `count` (size_of: (width, height)) is over the
    limit; `what` and `instead` say it, with the largest count that fits."""
    width, height = size_of(count)
    if width * height > MAX_PICTURE_PIXELS:
        largest = _largest(lambda n: math.prod(size_of(n)) <= MAX_PICTURE_PIXELS)
        raise AeonnxError(
            f"{what.format(count=count)} would be {width:,}x{height:,} pixels, over the limit of "
            f"{MAX_PICTURE_PIXELS:,}: {instead.format(largest=largest)}"
        )


def _largest(fits: Callable[[int], bool]) -> int:
    """The largest n >= 0 with fits(n), for a condition that stops holding as n grows."""
    low, high = 0, 1
    while fits(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def sample(model: Autoencoder, n: int, seed: int | None, output: Path, force: bool = False) -> list[Path]:
    """n generated digits: one grid in a picture file (its format from its extension), or into a folder
    (an existing one, `.`, or a name without an extension) as sample_NNN.png. Only those files are
    written; --force replaces only those."""
    if n < 0:
        raise DataError("-n must be at least 0")
    _check_draws_pictures(model, "sample")
    if output.is_dir() or not output.suffix:
        return _sample_files(model, n, seed, output, force)
    check_grid_size(n, model.image_shape)
    picture_format = images.output_format(output)
    check_targets([output], force)
    picture = images.image_bytes(grid_of(model.sample(n, seed=seed)), picture_format)
    atomic_write_bytes(output, picture, force=force)
    return [output]


def _check_draws_pictures(model: Autoencoder, what: str) -> None:
    """sample and manifold draw what the generator gives; a VAE of float arrays, or of a row of values that is no
    picture's shape, gives nothing to draw (Autoencoder.sample gives its arrays to a script)."""
    if not model.gives_pictures:
        shape = ", ".join(map(str, model.spec.input_shape))
        raise DataError(f"{what} draws pictures; {model.name} generates float arrays of ({shape})")
    if len(model.image_shape) == 1:
        raise DataError(f"{what} draws pictures; {model.name} generates rows of {model.image_shape[0]} values")


def _sample_files(model: Autoencoder, n: int, seed: int | None, output: Path, force: bool) -> list[Path]:
    if n > MAX_SAMPLE_FILES:
        raise AeonnxError(
            f"-n {n:,} is over the limit of {MAX_SAMPLE_FILES:,} files per run; "
            "run again with other --seed values for more"
        )
    if output.exists() and not output.is_dir():
        raise AeonnxError(f"{output} is a file; name a folder (or a picture such as samples.png)")
    targets = [output / f"sample_{index:03d}.png" for index in range(n)]
    check_targets(targets, force)
    z = model.sample_latents(n, seed)
    with staged_files(force) as stage:
        for start in range(0, n, DECODE_CHUNK):
            for target, digit in zip(targets[start:], model.decode(z[start : start + DECODE_CHUNK])):
                stage(target, images.png_bytes(digit))
    return targets


def manifold(model: Autoencoder, n: int, extent: float, output: Path, force: bool = False) -> Path:
    """The labelled manifold picture, in the format its extension names."""
    if not 0 < extent < float(np.finfo(np.float32).max):  # NaN fails both comparisons
        raise AeonnxError(f"--range must be a positive, finite number; got {extent}")
    if n < 1:
        raise AeonnxError(f"-n must be at least 1; got {n}")
    _check_draws_pictures(model, "the manifold")
    model.require_manifold()
    image = model.image_shape
    _refuse_oversized(
        lambda count: manifold_size(count, image), n, "the manifold of -n {count:,}", "use -n {largest} or less"
    )
    picture_format = images.output_format(output)
    check_targets([output], force)
    picture = labelled_manifold(model.manifold(n, extent), n, extent, format=picture_format)
    atomic_write_bytes(output, picture, force=force)
    return output


_MANIFOLD_SCALE, _MANIFOLD_MARGINS = 2, (64, 12, 56, 12)  # each digit drawn 2x; left, right, bottom, top
_MANIFOLD_CELL = spec.IMAGE_SIDE * _MANIFOLD_SCALE  # pixels: a smaller image is drawn larger, for its tick's label


def manifold_scale(image: tuple[int, ...]) -> int:
    """How many times each generated image is enlarged: 2x, or more for images under 28 pixels a side, whose tick
    labels ("-4.0") would otherwise overlap."""
    return max(_MANIFOLD_SCALE, math.ceil(_MANIFOLD_CELL / min(image[:2])))


def manifold_size(n: int, image: tuple[int, ...] = DIGIT) -> tuple[int, int]:
    """(width, height) in pixels of the labelled manifold picture of n x n images of shape `image` ((H, W[, C]))."""
    scale, (left, right, bottom, top) = manifold_scale(image), _MANIFOLD_MARGINS
    return n * image[1] * scale + left + right, n * image[0] * scale + bottom + top


def labelled_manifold(grid: np.ndarray, n: int, extent: float, scale: int | None = None, format: str = "PNG") -> bytes:
    """The manifold grid (n x n images, grey or colour) with z[0] / z[1] axis labels and tick values, as `format`
    bytes (Pillow only); each image enlarged `scale` times (default: manifold_scale)."""
    from PIL import Image, ImageDraw, ImageFont

    image = (grid.shape[0] // n, grid.shape[1] // n)
    scale = scale or manifold_scale(image)
    side_y, side_x = image[0] * scale, image[1] * scale  # one image, drawn
    margin_left, margin_right, margin_bottom, margin_top = _MANIFOLD_MARGINS
    body = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    width, height = body.width + margin_left + margin_right, body.height + margin_bottom + margin_top
    canvas = Image.new(body.mode, (width, height), "white")
    canvas.paste(body, (margin_left, margin_top))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    ticks = grids.manifold_axis(n, extent)
    for index, value in enumerate(ticks):
        label = f"{value:.1f}"
        x = margin_left + index * side_x + side_x // 2
        draw.text((x, margin_top + body.height + 4), label, fill="black", font=font, anchor="ma")
        y = margin_top + (n - 1 - index) * side_y + side_y // 2
        draw.text((margin_left - 6, y), label, fill="black", font=font, anchor="rm")
    draw.text((margin_left + body.width // 2, canvas.height - 6), "z[0]", fill="black", font=font, anchor="md")
    draw.text((6, margin_top + body.height // 2), "z[1]", fill="black", font=font, anchor="lm")
    return images.image_bytes(np.asarray(canvas), format)
