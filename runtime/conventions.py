"""A model's inputs and value conventions (spec.ModelSpec.values, value_range, output_range): what the encoder
takes, and pixels 0..255 <-> its values.

A picture's pixels are read into the encoder's range (0 -> LO, 255 -> HI: [0, 1] unless exported with
--value-range) and the decoder's outputs written back from its own (--output-range, by default the same).
A model of float values (--floats: signals, tables) takes and gives arrays as they are.
"""

from __future__ import annotations

import math

import numpy as np

from . import spec
from .errors import DataError


def from_pixels(pixels: np.ndarray, value_range: tuple[float, float] = spec.UNIT_RANGE) -> np.ndarray:
    """uint8 pixels -> float32 in [LO, HI]; [0, 1] exactly as training scaled them (pixel / 255)."""
    x = pixels.astype(np.float32) / np.float32(255.0)
    if tuple(value_range) == spec.UNIT_RANGE:
        return x
    low, high = value_range
    return x * np.float32(high - low) + np.float32(low)


def to_unit(x: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Values in [LO, HI] -> [0, 1] (float32; the same array where the range is [0, 1] already)."""
    if tuple(value_range) == spec.UNIT_RANGE:
        return x
    low, high = value_range
    return (x.astype(np.float32) - np.float32(low)) / np.float32(high - low)


def rescaled(x: np.ndarray, source: tuple[float, float], target: tuple[float, float]) -> np.ndarray:
    """Values in the `source` range as the same pixels in the `target` range: an input as the decoder gives it."""
    if tuple(source) == tuple(target):
        return x
    low, high = target
    return to_unit(x, source) * np.float32(high - low) + np.float32(low)


def to_pixels(x: np.ndarray, value_range: tuple[float, float] = spec.UNIT_RANGE) -> np.ndarray:
    """Values in [LO, HI] -> uint8 pixels, rounded and clipped, on one scratch float buffer."""
    if tuple(value_range) == spec.UNIT_RANGE:
        scaled = np.multiply(x, np.float32(255.0), dtype=np.float32)
    else:
        low, high = value_range
        scaled = np.subtract(x, np.float32(low), dtype=np.float32)
        np.multiply(scaled, np.float32(255.0 / (high - low)), out=scaled)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def as_model_input(
    images, input_shape: tuple[int, ...] = (spec.INPUT_SIZE,), value_range: tuple[float, float] = spec.UNIT_RANGE
) -> np.ndarray:
    """uint8 images, or floats in the model's values ([0, 1] unless `value_range`), -> float32 [N, *input_shape].
    For the shipped models: (N, 28, 28), (N, 784) or one (28, 28) -> [N, 784]; for (H, W, 1): (N, H, W) too;
    one image without N too."""
    x = np.asarray(images)
    if x.ndim < 2 or x.shape[1:] != input_shape:  # checked first: a batch-1 call is a few microseconds
        x = _batch_of(x, input_shape)
    if x.dtype == np.uint8:
        return from_pixels(x, value_range)  # exactly as training scaled its pixels
    if x.dtype.kind != "f":
        raise DataError(
            f"images must be uint8 (0-255) or floats in [{value_range[0]:g}, {value_range[1]:g}], got {x.dtype}"
        )
    x = x.astype(np.float32, copy=False)
    # NaN fails both comparisons and inf the second, so two reductions also rule out non-finite values.
    low, high = value_range
    if x.size and not (x.min() >= low and x.max() <= high):
        raise DataError(f"float images must lie in [{low:g}, {high:g}]")
    return x


def as_float_input(values, input_shape: tuple[int, ...]) -> np.ndarray:
    """Numbers -> float32 [N, *input_shape], for a model of float values (one input without N too)."""
    x = np.asarray(values)
    if x.dtype.kind not in "fiu":
        raise DataError(f"the model takes numbers, got {x.dtype}")
    if x.shape == input_shape:
        x = x[None]
    if x.ndim >= 2 and x.shape[1:] != input_shape and math.prod(x.shape[1:]) == math.prod(input_shape):
        x = x.reshape(len(x), *input_shape)
    if x.ndim < 2 or x.shape[1:] != input_shape:
        raise DataError(f"the model takes arrays of shape (N, {', '.join(map(str, input_shape))}), got {x.shape}")
    x = x.astype(np.float32, copy=False)
    if x.size and not np.isfinite(x).all():
        raise DataError("the arrays hold NaN or infinite values")
    return x


def _batch_of(x: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Images of another layout the model reads (one image, the image's own shape, flat) as [N, *input_shape]."""
    image, size = spec.image_of(input_shape), math.prod(input_shape)
    if x.shape == image or (len(input_shape) > 1 and x.shape == input_shape):  # one image
        x = x[None]
    if x.ndim >= 2 and x.shape[1:] in (image, input_shape, (size,)):
        x = x.reshape(len(x), *input_shape)
    if x.ndim < 2 or x.shape[1:] != input_shape:
        flat = f" or (N, {size})" if image != (size,) else ""
        raise DataError(f"images must have shape (N, {', '.join(map(str, image))}){flat}, got {x.shape}")
    return x
