"""The PNG writer (runtime/pictures/png.py) gives Pillow's bytes with optimize=True, file for file: decompress
writes the same files as before it, faster (issue 21)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime.pictures.png import png_files


def pillow_png(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def cases(mnist, ae) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    digits = mnist["x_test"][:300]
    decoded = ae.decode(ae.encode(digits))
    return {
        "digits": digits,
        "decoded digits": decoded,
        "noise": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "flat": np.full((3, 28, 28), 7, np.uint8),
        "black": np.zeros((2, 28, 28), np.uint8),
        "odd sizes": rng.integers(0, 256, (20, 5, 9), dtype=np.uint8),
        "one row": rng.integers(0, 256, (3, 1, 300), dtype=np.uint8),
        "colour": rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8),
        "smooth colour": np.stack([decoded[:30], decoded[:30] // 2, 255 - decoded[:30]], axis=-1),
    }


@pytest.mark.parametrize(
    "name",
    ["digits", "decoded digits", "noise", "flat", "black", "odd sizes", "one row", "colour", "smooth colour"],
)
def test_the_same_bytes_as_pillow(mnist, ae, name):
    pictures = cases(mnist, ae)[name]
    assert png_files(pictures) == [pillow_png(picture) for picture in pictures]


def test_what_it_writes_reads_back(mnist):
    digits = mnist["x_test"][:5]
    assert all(
        np.array_equal(np.asarray(Image.open(io.BytesIO(data))), d) for data, d in zip(png_files(digits), digits)
    )


def test_the_common_extensions_are_what_pillow_would_say():
    """images.output_format answers these without Pillow's registry (which imports every plugin): the same
    formats, each one Pillow can write."""
    from aeonnx.runtime.pictures.images import COMMON_FORMATS

    registered = Image.registered_extensions()
    assert {suffix: registered[suffix] for suffix in COMMON_FORMATS} == COMMON_FORMATS
    assert all(name in Image.SAVE for name in COMMON_FORMATS.values())
