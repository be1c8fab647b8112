"""Reconstruction quality in numpy, so training, export and benchmarks report the same figures."""

from __future__ import annotations

import numpy as np

from . import scores

# Keras clips predictions to [eps, 1 - eps] in binary cross-entropy; so do we.
EPSILON = 1e-7


def bce(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Mean per-pixel binary cross-entropy (Keras' definition), in nats."""
    x_hat = np.clip(x_hat.astype(np.float64), EPSILON, 1.0 - EPSILON)
    x = x.astype(np.float64)
    return float(-np.mean(x * np.log(x_hat) + (1.0 - x) * np.log(1.0 - x_hat)))


def mse(x: np.ndarray, x_hat: np.ndarray) -> float:
    return float(np.mean((x.astype(np.float64) - x_hat.astype(np.float64)) ** 2))


def psnr(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Mean over images of each image's PSNR in dB, for pixels in [0, 1]."""
    return float(np.mean(psnr_per_image(x, x_hat)))


def psnr_per_image(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Each image's PSNR in dB (float64 [N]), for pixels in [0, 1]; a perfect copy counts as 120 dB."""
    per_image_mse = np.maximum(scores.reconstruction_errors(x, x_hat, "mse"), 1e-12)
    return 10.0 * np.log10(1.0 / per_image_mse)


def ink(x: np.ndarray) -> np.ndarray:
    """Each image's mean pixel value in [0, 1]: how much of the frame the strokes cover."""
    return x.reshape(len(x), -1).astype(np.float64).mean(axis=1)


def reconstruction_metrics(x: np.ndarray, x_hat: np.ndarray) -> dict[str, float]:
    return {"bce": bce(x, x_hat), "mse": mse(x, x_hat), "psnr": psnr(x, x_hat)}


def drift(actual: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> tuple[float, int]:
    """How far outputs moved from reference ones: (max abs diff, how many values lie beyond
    atol + rtol * |expected| or are not finite). The parity gate and `verify` judge by it."""
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    max_diff = float(difference.max()) if difference.size else 0.0
    beyond = (difference > atol + rtol * np.abs(expected.astype(np.float64))) | ~np.isfinite(actual)
    return max_diff, int(beyond.sum())
