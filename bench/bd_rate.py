"""Bjøntegaard delta rate and PSNR (VCEG-M33, 2001): how much smaller (or better) one rate-distortion curve
is than another, averaged over the quality (or rate) range both cover.

    bd_rate(test, anchor)   # -20.0: the test codec needs 20% fewer bytes for the same PSNR
    bd_psnr(test, anchor)   # +0.8: 0.8 dB more at the same bytes

Each curve is a list of (bytes, PSNR) points. As in the original and in CompressAI's and JPEG AI's tools,
log-rate is fitted as a cubic in PSNR (fewer than 4 points: the highest degree they allow) and both fits
are integrated over the overlap; None where the curves do not overlap.
"""

from __future__ import annotations

import numpy as np


def _fit_integral(x: np.ndarray, y: np.ndarray, low: float, high: float) -> float:
    coefficients = np.polyfit(x, y, min(3, len(x) - 1))
    integral = np.polyint(coefficients)
    return float(np.polyval(integral, high) - np.polyval(integral, low))


def _curve(points) -> tuple[np.ndarray, np.ndarray]:
    rows = sorted((float(b), float(p)) for b, p in points)
    return np.log([b for b, _ in rows]), np.array([p for _, p in rows])


def _mean_gap(test: tuple[np.ndarray, np.ndarray], anchor: tuple[np.ndarray, np.ndarray]) -> float | None:
    """The mean of test's y minus anchor's y over the x both cover (each a cubic fit of y on x); None where
    they do not overlap."""
    low, high = max(test[0].min(), anchor[0].min()), min(test[0].max(), anchor[0].max())
    if high <= low:
        return None
    return (_fit_integral(*test, low, high) - _fit_integral(*anchor, low, high)) / (high - low)


def bd_rate(test, anchor) -> float | None:
    """Percent change in bytes of `test` against `anchor` at equal PSNR (negative: `test` is smaller)."""
    (test_rate, test_psnr), (anchor_rate, anchor_psnr) = _curve(test), _curve(anchor)
    gap = _mean_gap((test_psnr, test_rate), (anchor_psnr, anchor_rate))
    return None if gap is None else float((np.exp(gap) - 1) * 100)


def bd_psnr(test, anchor) -> float | None:
    """dB gained by `test` over `anchor` at equal bytes (positive: `test` is better)."""
    gap = _mean_gap(_curve(test), _curve(anchor))
    return None if gap is None else float(gap)
