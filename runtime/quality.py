"""Is this input like the digits the model knows? The round trip's PSNR and the ink, against training.

Training records, over its training digits, percentiles of each digit's round-trip PSNR and of its
ink (mean pixel value); export writes them into the model's metadata (spec.META_QUALITY). An input
whose PSNR falls a tail step below the spec.QUALITY_PERCENTILE-th percentile of training's, or whose ink
is under half of it, is unusual: a photo the tool could not read well, a blank page, a picture that is
not a digit. It is a warning, not an error: the code is still made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from . import metrics, spec


@dataclass(frozen=True)
class QualityProfile:
    """What nearly all training digits reach, and where the warning starts (spec.QUALITY_*)."""

    psnr_typical_low: float  # dB: spec.QUALITY_PERCENTILE of training digits fall below it (the warning says it)
    psnr_floor: float  # dB: below it, a warning; a tail step under psnr_typical_low
    ink_low: float  # mean pixel value; a frame with less holds no digit the model could know

    @property
    def share_above(self) -> str:
        """'99.9%': the share of training digits at or above psnr_typical_low, as the warning says it."""
        return f"{100 - spec.QUALITY_PERCENTILE:g}%"

    def judge(self, psnr: float, ink: float, seen: str = "digits") -> str | None:
        """None for a usual input; otherwise why it is not, in words for the warning. `seen`: what the model was
        trained on, "digits" (white ink on black) or "pictures" of its own, where the mean pixel is brightness."""
        if ink < self.ink_low:
            return _too_dark(ink, ink < self.ink_low / 2, seen)
        if psnr < self.psnr_floor:
            return f"{psnr:.1f} dB; {self.share_above} of its training {seen} give >= {self.psnr_typical_low:.1f} dB"
        return None


def _too_dark(ink: float, blank: bool, seen: str) -> str:
    if seen == "digits":
        return "no digit found" if blank else f"very little ink ({ink:.1%} of the frame)"
    return "a nearly black picture" if blank else f"very dark ({ink:.1%} mean brightness)"


def profile_from_metadata(metadata: dict[str, str]) -> QualityProfile | None:
    """The profile an exported model carries; None for a model exported before it was recorded."""
    raw = metadata.get(spec.META_QUALITY)
    if raw is None:
        return None
    quality = json.loads(raw)
    return profile_of(quality["psnr_db"], quality["ink"])


def profile_of(psnr_db: dict[str, float], ink: dict[str, float]) -> QualityProfile:
    """The warning's thresholds from training's percentiles: the PSNR floor a tail step (p0.5 - p0.1) under
    the 0.1th percentile, the ink floor half its 0.1th percentile (spec.QUALITY_*)."""
    low, tail = psnr_db[_key(spec.QUALITY_PERCENTILE)], psnr_db[_key(spec.QUALITY_TAIL_PERCENTILE)]
    floor = low - spec.QUALITY_TAIL_STEPS * max(tail - low, 0.0)
    return QualityProfile(low, floor, spec.QUALITY_INK_SHARE * ink[_key(spec.QUALITY_PERCENTILE)])


def measure(x: np.ndarray, x_hat: np.ndarray) -> dict:
    """The record training keeps: percentiles of round-trip PSNR and of ink over digits x (floats in [0, 1])."""
    psnr, ink = metrics.psnr_per_image(x, x_hat), metrics.ink(x)
    return {
        "psnr_db": {_key(p): float(np.percentile(psnr, p)) for p in spec.QUALITY_PERCENTILES},
        "ink": {_key(p): float(np.percentile(ink, p)) for p in spec.QUALITY_PERCENTILES},
        "warn_below_percentile": spec.QUALITY_PERCENTILE,
        "digits": len(x),
    }


def _key(percentile: float) -> str:
    return f"p{percentile:g}"
