"""Latent grids and image tiling, shared by training's pictures and the runtime's `manifold`."""

from __future__ import annotations

import numpy as np


def manifold_axis(n: int, extent: float) -> np.ndarray:
    """n evenly spaced values over [-extent, extent]."""
    return np.linspace(-extent, extent, n, dtype=np.float32)


def manifold_latents(n: int, extent: float) -> np.ndarray:
    """(n*n, 2) latent points, row-major, top row at +extent on the second axis (as the plot reads)."""
    axis = manifold_axis(n, extent)
    z1, z2 = np.meshgrid(axis, axis[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def tile(images: np.ndarray, columns: int, pad: int = 0, fill=0) -> np.ndarray:
    """(N, h, w) images (or (N, h, w, channels)) -> one (rows*h, columns*w) image (with its channels), left to
    right, top to bottom."""
    count, height, width = images.shape[:3]
    rows = max(1, -(-count // columns))
    canvas = np.full(
        (rows * height + (rows - 1) * pad, columns * width + (columns - 1) * pad, *images.shape[3:]),
        fill,
        dtype=images.dtype,
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + pad), column * (width + pad)
        canvas[top : top + height, left : left + width] = image
    return canvas
