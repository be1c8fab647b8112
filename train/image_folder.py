"""A folder of pictures as training images: read recursively, each made the size and colour asked for as
compress makes a picture a model's input (runtime.pictures.images.resized_to), labelled by class subfolder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from aeonnx.runtime import spec
from aeonnx.runtime.errors import DataError
from aeonnx.runtime.pictures.images import IMAGE_SUFFIXES, open_image, resized_to
from aeonnx.runtime.pictures.inputs import pictures_under

GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
SKIPPED_SHOWN = spec.SKIPPED_SHOWN
LARGEST_SIDE_UNASKED = 256  # bigger pictures need --size: a model at a photo's full size is no one's intent


def say(line: str) -> None:
    print(line, file=sys.stderr)


def read_folder(
    folder: Path, size: tuple[int, int] | None = None, channels: int | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], int]:
    """(uint8 images, labels, class names, files skipped): each picture at `size` (height, width) and with
    `channels` (1 or 3), by default the pictures' own. A picture's class is the first subfolder it is in
    under `folder` (pictures at the top are a class of their own, named '.'); the classes only colour the
    run's pictures and balance the held-out split."""
    files, unusable = pictures_under(folder)
    if not files:
        raise DataError(f"{folder}: no pictures in it ({', '.join(IMAGE_SUFFIXES)}), in it or its subfolders")
    shape = size, channels
    if None in shape:
        shape = _common_shape(files, size, channels)
    height, width, channels = (*shape[0], shape[1])
    target = (height, width) if channels == 1 else (height, width, channels)
    images, kept, skipped = np.empty((len(files), *target), np.uint8), [], 0
    for failure in unusable:  # entries of the folder that are no readable picture: said as unreadable files are
        skipped += 1
        if skipped <= SKIPPED_SHOWN:
            say(f"skipped {failure.reason}")
    for file in files:
        try:
            with open_image(file) as picture:
                images[len(kept)] = resized_to(picture, target, crop=True)
            kept.append(file)
        except DataError as e:  # one line each, then a count: a folder of thousands stays readable
            skipped += 1
            if skipped <= SKIPPED_SHOWN:
                say(f"skipped {e}")
    if skipped > SKIPPED_SHOWN:
        say(f"skipped {skipped - SKIPPED_SHOWN} more unreadable files")
    if not kept:
        raise DataError(f"{folder}: none of its {len(files)} pictures could be read")
    if skipped:
        say(f"{folder}: {len(kept)} pictures read, {skipped} skipped")
    classes = sorted({_class_of(file, folder) for file in kept})
    labels = np.array([classes.index(_class_of(file, folder)) for file in kept], np.int64)
    return images[: len(kept)], labels, tuple(classes), skipped


def _class_of(file: Path, folder: Path) -> str:
    parts = file.relative_to(folder).parts
    return parts[0] if len(parts) > 1 else "."


def _common_shape(files: list[Path], size, channels) -> tuple[tuple[int, int], int]:
    """((height, width), channels) where not asked: the pictures' own size if they all share it, and colour
    if any picture is in colour. Unreadable files are left to the reading, which counts them."""
    sizes, colour = set(), False
    for file in files:
        try:
            with open_image(file) as picture:
                sizes.add((picture.size[1], picture.size[0]))
                colour = colour or picture.mode not in GREY_MODES and not _grey_palette(picture)
        except DataError:
            continue
    if size is None:
        if len(sizes) > 1:
            raise DataError(f"the pictures come in {len(sizes)} sizes; give the one to train at: --size HxW")
        size = next(iter(sizes), (1, 1))
        if max(size) > LARGEST_SIDE_UNASKED:
            raise DataError(
                f"the pictures are {size[1]}x{size[0]} pixels; give --size HxW (e.g. --size 64x64) to train at"
            )
    return size, channels or (3 if colour else 1)


def _grey_palette(picture) -> bool:
    """A palette image whose colours are all greys (a GIF of a scan)."""
    if picture.mode != "P":
        return False
    palette = np.array(picture.getpalette() or [], np.uint8)
    rgb = palette[: len(palette) // 3 * 3].reshape(-1, 3)
    return bool((rgb == rgb[:, :1]).all())
