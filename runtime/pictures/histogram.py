"""A histogram of reconstruction errors as a grey picture, the anomaly threshold drawn across it (`aeonnx score
--histogram`): drawn with Pillow, so the runtime needs no plotting library."""

from __future__ import annotations

import numpy as np

WIDTH, HEIGHT, MARGIN = 640, 360, 40
BINS = 60


def draw(errors: np.ndarray, threshold: float | None, label: str) -> np.ndarray:
    """uint8 [HEIGHT, WIDTH]: counts per bin as bars (dark: at or under the threshold; mid-grey: above it), the
    threshold as a dashed line, the axis' ends and `label` written under it."""
    from PIL import Image, ImageDraw

    picture = Image.new("L", (WIDTH, HEIGHT), 255)
    pen = ImageDraw.Draw(picture)
    low, high = _extent(errors, threshold)
    counts, edges = np.histogram(errors, bins=BINS, range=(low, high))
    scale = (HEIGHT - 2 * MARGIN) / max(int(counts.max(initial=0)), 1)
    x_of = _positions(low, high)
    for count, left, right in zip(counts.tolist(), edges[:-1], edges[1:]):
        shade = 150 if threshold is not None and left >= threshold else 40
        pen.rectangle(
            [x_of(left), HEIGHT - MARGIN - count * scale, max(x_of(right) - 1, x_of(left)), HEIGHT - MARGIN], fill=shade
        )
    pen.line([MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN], fill=0)
    if threshold is not None:
        for y in range(MARGIN // 2, HEIGHT - MARGIN, 8):
            pen.line([x_of(threshold), y, x_of(threshold), y + 4], fill=0, width=2)
        pen.text((x_of(threshold) + 4, MARGIN // 2), f"threshold {threshold:.4g}", fill=0)
    pen.text((MARGIN, HEIGHT - MARGIN + 6), f"{low:.4g}", fill=0)
    pen.text((WIDTH - MARGIN - 60, HEIGHT - MARGIN + 6), f"{high:.4g}", fill=0)
    pen.text((WIDTH // 2 - 3 * len(label), HEIGHT - MARGIN + 20), label, fill=0)
    pen.text((MARGIN, 4), f"{len(errors):,} inputs, most in one bin: {int(counts.max(initial=0)):,}", fill=0)
    return np.asarray(picture)


def _extent(errors: np.ndarray, threshold: float | None) -> tuple[float, float]:
    """The axis: from 0 (errors are never negative) to past the largest error and the threshold."""
    top = max([float(errors.max(initial=0.0))] + ([threshold] if threshold is not None else []))
    return 0.0, top * 1.05 if top > 0 else 1.0


def _positions(low: float, high: float):
    span = WIDTH - 2 * MARGIN

    def x_of(value: float) -> float:
        return MARGIN + (value - low) / (high - low) * span

    return x_of
