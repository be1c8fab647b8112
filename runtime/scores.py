"""Reconstruction error: how far each input's round trip lands from it, and when that makes it an anomaly.

The most common production use of an autoencoder: trained on normal data, it reconstructs normal inputs
well and others badly, so an input whose error lies above what nearly all normal data gives is flagged.
Export measures the error of every input of the export data (float codes, the model's own values, as
Keras' own reconstruction error is computed) and records its ANOMALY_PERCENTILE-th percentile as the
threshold (spec.META_ANOMALY); `aeonnx score` and `Autoencoder.score` judge by it. The warning of
`compress` judges by the same errors: a picture model's by their PSNR (quality.py), a model of float
values by this threshold.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from . import spec

METRICS = spec.SCORE_METRICS


class Scores(NamedTuple):
    errors: np.ndarray  # float64 [N]: each input's reconstruction error, in the model's own values
    metric: str  # mse or mae
    threshold: float | None  # above it, an anomaly; None: the model records none and none was given
    threshold_source: str  # where the threshold comes from, in words

    @property
    def anomalous(self) -> np.ndarray:
        """bool [N]: above the threshold (none where there is no threshold)."""
        if self.threshold is None:
            return np.zeros(len(self.errors), bool)
        return self.errors > self.threshold


def reconstruction_errors(x: np.ndarray, x_hat: np.ndarray, metric: str = "mse") -> np.ndarray:
    """Each input's mean squared or absolute error over its values (float64 [N]), e.g. Keras'
    `np.mean(np.abs(x_hat - x), axis=1)` for windows of one channel."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    difference = x.reshape(len(x), -1).astype(np.float64) - x_hat.reshape(len(x_hat), -1)
    if metric == "mse":
        return np.mean(np.square(difference, out=difference), axis=1)
    return np.mean(np.abs(difference, out=difference), axis=1)


def threshold_record(x: np.ndarray, x_hat: np.ndarray) -> dict:
    """What export records of the export data's errors: each metric's ANOMALY_PERCENTILE-th percentile."""
    percentile = spec.ANOMALY_PERCENTILE
    return {
        "percentile": percentile,
        "thresholds": {
            metric: float(np.percentile(reconstruction_errors(x, x_hat, metric), percentile)) for metric in METRICS
        },
        "inputs": len(x),
    }


def recorded_threshold(metadata: dict[str, str], metric: str) -> tuple[float | None, str]:
    """(the threshold export learnt for `metric`, where it comes from); (None, why) for a model without one."""
    raw = metadata.get(spec.META_ANOMALY)
    if raw is None:
        return _from_quality_profile(metadata, metric)
    record = json.loads(raw)
    threshold = record["thresholds"][metric]
    return threshold, f"the {record['percentile']:g}th percentile of {record['inputs']:,} export inputs' {metric}"


def _from_quality_profile(metadata: dict[str, str], metric: str) -> tuple[float | None, str]:
    """A model exported before thresholds were learnt (the shipped ones) records its training digits' PSNR
    percentiles (spec.META_QUALITY): the 99.5th percentile of their MSE is 10^(-p0.5 / 10), pixels in [0, 1]."""
    low = 100 - spec.ANOMALY_PERCENTILE
    quality = json.loads(metadata.get(spec.META_QUALITY, "{}"))
    psnr = quality.get("psnr_db", {}).get(f"p{low:g}")
    if metric != "mse" or psnr is None or spec.META_VALUES in metadata:
        return None, "this model records no threshold for it (exported before aeonnx learnt them): give --threshold"
    digits = quality.get("digits")
    return 10 ** (-psnr / 10), f"the {spec.ANOMALY_PERCENTILE:g}th percentile of {digits:,} training inputs' mse"
